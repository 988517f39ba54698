import * as amqp from "amqplib";
import { hostName } from "../../util/host.ts";
import type { TaskqError } from "../../errors.ts";
import { ConnectError, connectError } from "./connect-error.ts";
import { coalesceWrites, destroySocket, isHeartbeatTimeout } from "./amqplib.ts";
import { ANSWER_TIMEOUT_MS, CLOSE_TIMEOUT_MS, DEFAULT_HEARTBEAT_S, LOSS_GRACE_MS } from "./liveness.ts";
import { type BrokerAddress, parseBrokerUrl, redact } from "./url.ts";
import { settledWithin } from "../../util/clock.ts";

/** Where the brokers are and how to reach them, resolved once from flags. */
export interface BrokerTarget {
  /** One or more nodes of one cluster (or one broker), tried in this order, then round robin. */
  urls: string[];
  /** amqps: PEM contents. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** At start, keep trying this long (retryable failures only) before giving up. */
  connectTimeoutMs: number;
  /** AMQP heartbeat in seconds, 0 = off (default DEFAULT_HEARTBEAT_S); a URL's `?heartbeat=N` wins. */
  heartbeatS?: number;
}

/** One open AMQP connection plus what taskq needs to report on it. */
export interface Broker {
  readonly address: BrokerAddress;
  readonly model: amqp.ChannelModel;
  /**
   * Resolves when the connection is gone without our close: the socket closed, the broker closed
   * it, a heartbeat was missed, or `fail` was called (an answer that never came).
   */
  readonly lost: Promise<TaskqError>;
  /**
   * Resolves when the connection is gone for any reason: `lost`'s error, or a retryable one (LOST) once `close` began.
   * After a deliberate close amqplib may leave a declare or channel open pending for ever; this ends the wait.
   */
  readonly ended: Promise<TaskqError>;
  /** Takes the connection for gone (`lost` resolves with `why`) and cuts its socket. */
  fail(why: string): void;
  /** Closes it politely, within CLOSE_TIMEOUT_MS, then cuts the socket. */
  close(): Promise<void>;
}

export interface DialOptions {
  tls?: BrokerTarget["tls"];
  name?: string;
  /** Bounds the opening: TCP connect, TLS, the AMQP handshake (then a first channel: ANSWER_TIMEOUT_MS). */
  timeoutMs: number;
  heartbeatS?: number;
}

/** One attempt at one address: the connection, answering, or a ConnectError saying why not. */
export async function dial(url: string, options: DialOptions): Promise<Broker> {
  const address = parseBrokerUrl(url);
  const { timeoutMs } = options;
  const opening = amqp.connect(withHeartbeat(url, options.heartbeatS ?? DEFAULT_HEARTBEAT_S), {
    noDelay: true,
    timeout: timeoutMs,
    ...(options.tls ?? {}),
    clientProperties: { connection_name: connectionName(options.name ?? `taskq@${hostName()}`) },
  });
  let model: amqp.ChannelModel;
  try {
    model = await within(opening, timeoutMs + 500);
  } catch (err) {
    // Past the bound the attempt is over: a connection that opens after all is closed (bounded,
    // its errors heard), not leaked, and cannot crash the process or hold it open.
    opening.then(
      (late) => liveBroker(address, late).close(),
      () => {},
    );
    throw connectError(address, err, timeoutMs);
  }
  coalesceWrites(model);
  const broker = liveBroker(address, model);
  // A path can answer the handshake and then nothing (a proxy, a hung node): a connection is handed
  // out only once it answered a channel open too, within the answer bound. One that did not is cut
  // and this attempt fails (LOST, retryable): the reconnector goes on to the next address.
  try {
    await whileUp(broker, firstChannel(model), { ms: ANSWER_TIMEOUT_MS, what: "a channel open after the handshake" });
  } catch (err) {
    void broker.close();
    throw connectError(address, err, timeoutMs);
  }
  return broker;
}

/**
 * Opens a channel (the broker answers on this connection, not only its handshake) and lets it go: its close-ok is not
 * waited for.
 */
async function firstChannel(model: amqp.ChannelModel): Promise<void> {
  const channel = quiet(await model.createChannel());
  channel.close().catch(() => {});
}

function liveBroker(address: BrokerAddress, model: amqp.ChannelModel): Broker {
  let closing: Promise<void> | undefined;
  let loseWith!: (err: TaskqError) => void;
  let gone = false;
  const lost = new Promise<TaskqError>((resolve) => (loseWith = resolve));
  let closedWith!: (err: TaskqError) => void;
  const closed = new Promise<TaskqError>((resolve) => (closedWith = resolve));
  const ended = Promise.race([lost, closed]);
  const lose = (why: string) => {
    if (gone || closing !== undefined) return;
    gone = true;
    loseWith(new ConnectError(`lost the connection to ${address.host}:${address.port}: ${why}`, "LOST"));
  };
  model.on("error", () => {});
  model.on("close", (err?: Error) => {
    if (err && isHeartbeatTimeout(err)) {
      lose("missed the broker's heartbeats (the network or the broker stopped answering)");
      // amqplib only half-closes the socket then (amqplib.ts destroySocket); a silent peer would hold it open.
      destroySocket(model, err);
    } else lose(redact(err?.message ?? "closed", address));
  });
  return {
    address,
    model,
    lost,
    ended,
    fail(why) {
      lose(why);
      if (!destroySocket(model, new Error(why))) void model.close().catch(() => {});
    },
    close() {
      closedWith(new ConnectError(`the connection to ${address.host}:${address.port} was closed by taskq`, "LOST"));
      closing ??= (async () => {
        if (!(await settledWithin(model.close(), CLOSE_TIMEOUT_MS))) destroySocket(model, new Error("closed by taskq"));
      })();
      return closing;
    },
  };
}

/**
 * The name the broker shows for a connection (management UI, its log), with TASKQ_CONNECTION_TAG
 * appended when set: tells one fleet, deploy or test run from another in the broker's eyes.
 */
export function connectionName(name: string, tag = process.env.TASKQ_CONNECTION_TAG): string {
  return tag ? `${name} [${tag}]` : name;
}

/** `url` asking for `seconds` of heartbeat, unless it asks for its own (`?heartbeat=N` wins). */
export function withHeartbeat(url: string, seconds: number): string {
  const hash = url.indexOf("#");
  const [base, fragment] = hash < 0 ? [url, ""] : [url.slice(0, hash), url.slice(hash)];
  const query = base.indexOf("?");
  if (query >= 0 && new URLSearchParams(base.slice(query + 1)).has("heartbeat")) return url;
  return `${base}${query < 0 ? "?" : "&"}heartbeat=${seconds}${fragment}`;
}

export interface Bound {
  /** No answer within this long: the connection is taken for gone (`Broker.fail`). */
  ms: number;
  /** What was waited for, for the message: "opening a channel". */
  what: string;
}

/**
 * `work` on `broker`, or the connection's own error (kind "LOST") if the connection goes away
 * first: amqplib can leave a channel open or a declare pending for ever when that happens. With
 * `bound`, an answer later than `bound.ms` fails the connection (a silent network or broker).
 */
export function whileUp<T>(broker: Broker, work: Promise<T>, bound?: Bound): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (bound) {
    timer = setTimeout(() => broker.fail(`no answer to ${bound.what} within ${bound.ms / 1000}s`), bound.ms);
  }
  const outcome = Promise.race([
    work.catch(async (err: unknown) => {
      // amqplib rejects what is pending on a channel ("Channel ended, no reply will be
      // forthcoming") while it closes the connection, before the connection says it closed:
      // then the loss is the reason, as for a loss while the call waits. That includes a broker
      // closing the connection over the call itself (a connection-level code such as 530): the
      // loss says the broker's reason, and a caller with a reconnector tries again until its
      // timeout, as it does for any connection the broker closes. A refusal on a live connection
      // (a channel-level code such as 406) waits these few ms and stays the refusal.
      // Shown: test/e2e/client-answers.test.ts, test/unit/core/broker/connection.test.ts.
      throw (await endedWithin(broker, LOSS_GRACE_MS)) ?? err;
    }),
    // `ended`, not `lost`: work pending on a connection closed on purpose ends too (a retryable loss), never hangs.
    endOf(broker).then((err) => {
      throw err;
    }),
  ]);
  return timer === undefined ? outcome : outcome.finally(() => clearTimeout(timer));
}

/** The connection's loss if it comes within `ms`, else undefined (no timer outlives the answer). */
export async function lostWithin(broker: Broker, ms: number): Promise<TaskqError | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([broker.lost, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The connection's end (a loss or our close) if it comes within `ms`, else undefined. */
function endedWithin(broker: Broker, ms: number): Promise<TaskqError | undefined> {
  return lostWithin({ ...broker, lost: endOf(broker) }, ms);
}

/** `broker.ended`; `lost` for a stand-in that has only that (the unit tests' fake brokers). */
function endOf(broker: Broker): Promise<TaskqError> {
  return (broker as Partial<Broker>).ended ?? broker.lost;
}

/** `promise`, or a rejection ("connect ETIMEDOUT") after `ms`; the timer goes with the answer. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("connect ETIMEDOUT")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Attaches a no-op error listener (amqplib emits channel errors as events, lib/channel.js; the promise carries
 * them).
 */
export function quiet<T extends { on(event: "error", fn: (err: Error) => void): unknown }>(channel: T): T {
  channel.on("error", () => {});
  return channel;
}
