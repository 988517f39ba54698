import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";

/**
 * Every reach into amqplib beyond its public API, in one file: its internals (each with a fallback
 * to the public API, said once as a process warning when taken, so a changed amqplib is noticed in
 * production and not silently slower) and the texts of its errors that taskq tells apart (each
 * with a test that makes amqplib produce it: test/e2e/amqplib-texts.test.ts).
 */

const warned = new Set<string>();

/** Says once per process that an internal of amqplib was not found and the fallback is in use. */
export function fallbackTaken(what: string, instead: string): void {
  if (warned.has(what)) return;
  warned.add(what);
  process.emitWarning(`amqplib's internals are not what taskq knows (amqplib 2.x): ${what}; ${instead}`, {
    code: "TASKQ_AMQPLIB_FALLBACK",
  });
}

/** amqplib's texts, as it writes them (lib/connection.js, lib/channel.js, lib/connect.js). */
export const AMQPLIB_TEXTS = {
  /** A connection's 'close' error when two heartbeat intervals passed with nothing from the broker. */
  heartbeatTimeout: "Heartbeat timeout",
  /** A confirm callback's error when its channel closed before the broker's ack or nack. */
  channelClosed: "channel closed",
  /** The socket ended while the AMQP handshake was under way (the peer closed it). */
  handshakeClosed: /socket closed|Unexpected close|Socket closed abruptly/i,
  /** The broker refused the vhost during the handshake (a 530 where connection.open-ok was due). */
  openRefused: /Expected ConnectionOpenOk/,
  /**
   * A method's argument amqplib cannot encode (lib/defs.js), thrown before a byte is written: a
   * queue name over 255 bytes, a missing field. Sending the same arguments again cannot mend them.
   */
  fieldUnencodable: /Field '\w+' is the wrong type|Missing value for mandatory field/,
} as const;

export const isHeartbeatTimeout = (err: Error): boolean => err.message === AMQPLIB_TEXTS.heartbeatTimeout;
export const isChannelClosed = (err: unknown): boolean =>
  (err as Error | undefined)?.message === AMQPLIB_TEXTS.channelClosed;
export const isHandshakeClosed = (message: string): boolean => AMQPLIB_TEXTS.handshakeClosed.test(message);
export const isOpenRefused = (message: string): boolean => AMQPLIB_TEXTS.openRefused.test(message);
export const isFieldUnencodable = (message: string): boolean => AMQPLIB_TEXTS.fieldUnencodable.test(message);

/**
 * The frame_max `model`'s connection negotiated (lib/connection.js sets `frameMax` on tune-ok;
 * 0xffffffff for none). Fallback: RabbitMQ's default, 131,072, whose header frame amqplib's own
 * table limit keeps within (test/unit/core/failures/header-frame.test.ts).
 */
export function negotiatedFrameMax(model: ChannelModel): number {
  const frameMax = (model as unknown as { connection?: { frameMax?: unknown } }).connection?.frameMax;
  if (typeof frameMax === "number" && frameMax > 0) return frameMax;
  fallbackTaken("ChannelModel.connection.frameMax", "copies are fitted to amqplib's table limit alone");
  return 131_072;
}

/**
 * Writes basic.ack / basic.nack frames for a channel straight to the socket.
 *
 * Why: amqplib queues every outgoing frame in a per-channel stream that its
 * multiplexer drains on the next `setImmediate`. On a prefetch-1 consumer the
 * ack is on the critical path (no next task until the broker has it), and that
 * extra turn was a third of the gap between tasks (docs/performance.md, "Measured").
 *
 * Safe because, once consuming, taskq sends nothing else on a consumer channel
 * but acks and nacks (both through here, so they stay in order) until it
 * cancels: from then on (`queueBehind`) they go through amqplib's queue, behind
 * the cancel. Falls back to the public API when the internals are not what
 * amqplib 2.x has.
 */
export interface AckWriter {
  /**
   * Whether acks go straight to the socket now: false when amqplib's internals were not found
   * (the fallback, one event-loop turn slower), and after `queueBehind()`.
   */
  readonly direct: boolean;
  ack(deliveryTag: number, multiple: boolean): void;
  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void;
  /**
   * From now on write through amqplib, behind the frames it has queued: call it before a
   * basic.cancel, or an ack written straight to the socket overtakes the cancel and the
   * broker hands the stopping consumer one more task (requeued, so redelivered): an ack frees a
   * credit the broker fills at once. A stop that gives nothing back: test/e2e/prefetch-switch.test.ts.
   */
  queueBehind(): void;
}

interface Internals {
  ch?: unknown;
  connection?: { sendBytes?: unknown };
}

const BASIC = 60;
const ACK = 80;
const NACK = 120;

function frame(channel: number, method: number, deliveryTag: number, bits: number): Buffer {
  const buf = Buffer.allocUnsafe(21);
  buf.writeUInt8(1, 0); // method frame
  buf.writeUInt16BE(channel, 1);
  buf.writeUInt32BE(13, 3); // class + method + tag + bits
  buf.writeUInt16BE(BASIC, 7);
  buf.writeUInt16BE(method, 9);
  // The 64-bit tag as two 32-bit halves: no BigInt per ack.
  buf.writeUInt32BE(Math.floor(deliveryTag / 0x1_0000_0000), 11);
  buf.writeUInt32BE(deliveryTag >>> 0, 15);
  buf.writeUInt8(bits, 19);
  buf.writeUInt8(0xce, 20); // frame end
  return buf;
}

export function ackWriter(channel: Channel): AckWriter {
  const internals = channel as unknown as Internals;
  const connection = internals.connection;
  if (typeof internals.ch === "number" && connection && typeof connection.sendBytes === "function") {
    const ch = internals.ch;
    const send = (connection.sendBytes as (b: Buffer) => void).bind(connection);
    const queued = viaChannel(channel);
    let direct = true;
    return {
      get direct() {
        return direct;
      },
      ack: (tag, multiple) => (direct ? send(frame(ch, ACK, tag, multiple ? 1 : 0)) : queued.ack(tag, multiple)),
      nack: (tag, multiple, requeue) =>
        direct
          ? send(frame(ch, NACK, tag, (multiple ? 1 : 0) | (requeue ? 2 : 0)))
          : queued.nack(tag, multiple, requeue),
      queueBehind: () => {
        direct = false;
      },
    };
  }
  fallbackTaken(
    "a channel's number and its connection's sendBytes",
    "acks go through the channel's queue (one event-loop turn slower)",
  );
  return viaChannel(channel);
}

function viaChannel(channel: Channel): AckWriter {
  const msg = (deliveryTag: number) => ({ fields: { deliveryTag } }) as Parameters<Channel["ack"]>[0];
  return {
    direct: false,
    ack: (tag, multiple) => channel.ack(msg(tag), multiple),
    nack: (tag, multiple, requeue) => channel.nack(msg(tag), multiple, requeue),
    queueBehind: () => {},
  };
}

/**
 * Keeps `callback` as the consumer of `tag` after its cancel: amqplib forgets a tag at cancel-ok
 * ("Surely a race here", its lib/channel.js) and throws on a delivery to a tag it does not know,
 * inside its frame loop, which ends the connection (lib/connection.js: a 'frameError'). A cancelled
 * consumer's deliveries the broker sent before it saw the cancel are still tasks
 * (test/e2e/prefetch-auto-quorum.test.ts). Without the internal, such a delivery ends the
 * session, and its unacked tasks go back to the queue (nothing lost).
 */
export function keepConsumer(channel: Channel, tag: string, callback: (msg: ConsumeMessage | null) => void): void {
  const c = channel as unknown as { registerConsumer?: unknown };
  if (typeof c.registerConsumer === "function")
    (c.registerConsumer as (t: string, cb: typeof callback) => void).call(channel, tag, callback);
  else
    fallbackTaken(
      "a channel's registerConsumer",
      "a delivery to a replaced consumer ends the session (its tasks are redelivered)",
    );
}

/** Drops a tag `keepConsumer` kept (no delivery can follow a later cancel-ok): its callback is no longer held. */
export function forgetConsumer(channel: Channel, tag: string): void {
  const c = channel as unknown as { unregisterConsumer?: unknown };
  if (typeof c.unregisterConsumer === "function") (c.unregisterConsumer as (t: string) => void).call(channel, tag);
}

interface MuxInternals {
  connection?: { muxer?: { _readIncoming?: () => void }; stream?: { cork?: () => void; uncork?: () => void } };
}

/**
 * amqplib's multiplexer hands each queued frame to the socket with a write of its own: one system
 * call per published task. Corked around each of its write loops, a loop's frames go out in one
 * writev (docs/performance.md, "Measured"; test/e2e/frames.test.ts): less CPU for taskq and for
 * the broker, which reads fewer, fuller segments. Nothing waits longer: the loop uncorks before it
 * returns. Leaves amqplib as it is when its internals are not what 2.x has;
 * returns whether it applied.
 */
export function coalesceWrites(model: object): boolean {
  const { muxer, stream } = (model as MuxInternals).connection ?? {};
  const loop = muxer?._readIncoming;
  if (
    !muxer ||
    !stream ||
    typeof loop !== "function" ||
    typeof stream.cork !== "function" ||
    typeof stream.uncork !== "function"
  ) {
    fallbackTaken("the connection's muxer and stream", "each frame is written on its own (more system calls per task)");
    return false;
  }
  const cork = stream.cork.bind(stream);
  const uncork = stream.uncork.bind(stream);
  muxer._readIncoming = function (this: unknown) {
    cork();
    try {
      loop.call(muxer);
    } finally {
      uncork();
    }
  };
  return true;
}

interface SocketInternals {
  connection?: { stream?: { destroy?: (err?: Error) => void; destroyed?: boolean } };
}

/**
 * Cuts the connection's socket at once, with `err`: amqplib then closes the connection (its
 * 'close' event, every channel's, every pending call rejected). The way out of a connection that
 * went silent: a polite close waits for a close-ok that never comes, and after a missed heartbeat
 * amqplib only half-closes the socket (lib/connection.js toClosed: `stream.end()`), which a silent
 * peer never finishes (test/e2e/partition.test.ts). Returns whether it
 * could (false: amqplib's internals are not what 2.x has; the caller falls back to close()).
 */
export function destroySocket(model: object, err: Error): boolean {
  const stream = (model as SocketInternals).connection?.stream;
  if (!stream || typeof stream.destroy !== "function") {
    fallbackTaken(
      "the connection's socket",
      "a silent connection is closed politely instead (bounded, then left to the OS)",
    );
    return false;
  }
  if (!stream.destroyed) stream.destroy(err);
  return true;
}
