import type { Channel } from "amqplib";

/** One ack or nack as the fake saw it: through the public API ("channel") or as bytes for the socket. */
export interface AckCall {
  via: "channel" | "socket";
  text: string;
}

/**
 * A stand-in for an amqplib channel that records acks and nacks, for tests of
 * src/core/broker/amqplib.ts (ackWriter) and src/core/worker/acker.ts without a broker. Plain (the default), it has only
 * `ack`/`nack`, so `ackWriter` falls back to them; with `internals`, it also has what
 * amqplib 2.x keeps inside (`ch`, `connection.sendBytes`), so `ackWriter` writes frames
 * and the fake decodes them. Each call reads "ack 5", "ack 7 multiple", "nack 3 requeue".
 */
export function fakeChannel(options: { internals?: boolean; channelNumber?: number } = {}) {
  const calls: AckCall[] = [];
  const frames: Buffer[] = [];
  const text = (op: string, tag: number, multiple: boolean, requeue = false) =>
    `${op} ${tag}${multiple ? " multiple" : ""}${requeue ? " requeue" : ""}`;
  type Msg = { fields: { deliveryTag: number } };
  const channel: Record<string, unknown> = {
    ack: (msg: Msg, multiple = false) =>
      calls.push({ via: "channel", text: text("ack", msg.fields.deliveryTag, multiple) }),
    nack: (msg: Msg, multiple = false, requeue = true) =>
      calls.push({ via: "channel", text: text("nack", msg.fields.deliveryTag, multiple, requeue) }),
  };
  if (options.internals) {
    channel.ch = options.channelNumber ?? 1;
    channel.connection = {
      sendBytes(bytes: Buffer) {
        frames.push(Buffer.from(bytes));
        calls.push({ via: "socket", text: decode(bytes) });
      },
    };
  }
  return {
    channel: channel as unknown as Channel,
    /** Every call in order, whichever way it went. */
    calls,
    /** The raw bytes handed to `sendBytes`. */
    frames,
    /** The calls' text, in order. */
    texts: () => calls.map((c) => c.text),
  };
}

/** A basic.ack / basic.nack method frame as text; anything else as "malformed ...". */
function decode(b: Buffer): string {
  const ok = b.length === 21 && b[0] === 1 && b.readUInt32BE(3) === 13 && b.readUInt16BE(7) === 60 && b[20] === 0xce;
  const method = ok ? b.readUInt16BE(9) : 0;
  if (method !== 80 && method !== 120) return `malformed ${b.toString("hex")}`;
  const tag = Number(b.readBigUInt64BE(11));
  const bits = b[19] as number;
  return `${method === 80 ? "ack" : "nack"} ${tag}${bits & 1 ? " multiple" : ""}${bits & 2 ? " requeue" : ""}`;
}
