import * as amqp from "amqplib";
import { hostname } from "node:os";
import type { TaskqError } from "../errors.ts";
import { ConnectError, connectError } from "./connect-error.ts";
import { coalesceWrites } from "./frames.ts";
import { sleep } from "../util/clock.ts";
import { type BrokerAddress, parseBrokerUrl, redact } from "./url.ts";

export { ConnectError, isLost } from "./connect-error.ts";

/** Where the brokers are and how to reach them, resolved once from flags. */
export interface BrokerTarget {
  /** One or more nodes of one cluster (or one broker), tried in this order, then round robin. */
  urls: string[];
  /** amqps: PEM contents. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** At start, keep trying this long (retryable failures only) before giving up. */
  connectTimeoutMs: number;
}

/** One open AMQP connection plus what taskq needs to report on it. */
export interface Broker {
  readonly address: BrokerAddress;
  readonly model: amqp.ChannelModel;
  /** Resolves when the connection closes on its own (broker gone, forced close). */
  readonly lost: Promise<TaskqError>;
  close(): Promise<void>;
}

/** One attempt at one address: the connection, or a ConnectError saying why not. */
export async function dial(url: string, tls: BrokerTarget["tls"], name: string | undefined, timeoutMs: number): Promise<Broker> {
  const address = parseBrokerUrl(url);
  let model: amqp.ChannelModel;
  try {
    model = await withTimeout(
      amqp.connect(url, { noDelay: true, timeout: timeoutMs, ...(tls ?? {}), clientProperties: { connection_name: name ?? `taskq@${hostname()}` } }),
      timeoutMs + 500,
    );
  } catch (err) {
    throw connectError(address, err, timeoutMs);
  }
  coalesceWrites(model);
  let closing = false;
  const lost = new Promise<TaskqError>((resolve) => {
    model.on("error", () => {});
    model.on("close", (err?: Error) => {
      if (!closing) resolve(new ConnectError(`lost the connection to ${address.host}:${address.port}: ${redact(err?.message ?? "closed", address)}`, "LOST"));
    });
  });
  return {
    address,
    model,
    lost,
    async close() {
      if (closing) return;
      closing = true;
      await model.close().catch(() => {});
    },
  };
}

/**
 * `work` on `broker`, or the connection's own error (kind "LOST") if the connection goes away
 * first: amqplib can leave a channel open or a declare pending for ever when that happens.
 */
export function whileUp<T>(broker: Broker, work: Promise<T>): Promise<T> {
  return Promise.race([
    work.catch(async (err: unknown) => {
      // amqplib rejects what is pending on a channel ("Channel ended, no reply will be
      // forthcoming") while it closes the connection, before the connection says it closed:
      // then the loss is the reason, as for a loss while the call waits. That includes a broker
      // closing the connection over the call itself (a connection-level code such as 530): the
      // loss says the broker's reason, and a caller with a reconnector tries again until its
      // timeout, as it does for any connection the broker closes. A refusal on a live connection
      // (a channel-level code such as 406) waits these few ms and stays the refusal.
      const lost = await Promise.race([broker.lost, sleep(LOSS_GRACE_MS).then(() => undefined)]);
      throw lost ?? err;
    }),
    broker.lost.then((err) => {
      throw err;
    }),
  ]);
}

/** How long a failed call waits to learn whether its connection went away (see whileUp). */
const LOSS_GRACE_MS = 20;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("connect ETIMEDOUT")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Attaches a no-op error listener (amqplib emits channel errors as events; the promise carries them). */
export function quiet<T extends { on(event: "error", fn: (err: Error) => void): unknown }>(channel: T): T {
  channel.on("error", () => {});
  return channel;
}
