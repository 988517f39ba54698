import * as amqp from "amqplib";
import { hostname } from "node:os";
import { ExitCode, TaskqError } from "../errors.ts";
import { type BrokerAddress, brokerUnreachable, parseBrokerUrl, redact } from "./url.ts";

export interface ConnectOptions {
  /** Give up on an unreachable broker after this long. */
  timeoutMs?: number;
  /** Shown in the management UI's connection list. */
  name?: string;
}

/** One open AMQP connection plus what taskq needs to report on it. */
export interface Broker {
  readonly address: BrokerAddress;
  readonly model: amqp.ChannelModel;
  /** Set when the connection closes on its own (broker gone, forced close). */
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is RabbitMQ running?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
};

/** Opens a connection, turning every way it can fail into one clear TaskqError. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Broker> {
  const address = parseBrokerUrl(url);
  const timeoutMs = options.timeoutMs ?? 5000;
  let model: amqp.ChannelModel;
  try {
    model = await withTimeout(
      amqp.connect(url, {
        noDelay: true,
        timeout: timeoutMs,
        clientProperties: { connection_name: options.name ?? `taskq@${hostname()}` },
      }),
      timeoutMs + 500,
    );
  } catch (err) {
    throw connectError(address, err, timeoutMs);
  }
  let closing = false;
  const lost = new Promise<Error>((resolve) => {
    model.on("error", () => {});
    model.on("close", (err?: Error) => {
      if (!closing) resolve(new TaskqError(`lost the connection to ${address.host}:${address.port}: ${redact(err?.message ?? "closed", address)}`));
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

function connectError(address: BrokerAddress, err: unknown, timeoutMs: number): TaskqError {
  if (err instanceof TaskqError) return err;
  const e = err as NodeJS.ErrnoException;
  const message = redact(String(e?.message ?? err), address);
  if (e?.code && REASONS[e.code]) return brokerUnreachable(address, REASONS[e.code] ?? e.code);
  if (/ETIMEDOUT|timed out/i.test(message)) return brokerUnreachable(address, `no answer within ${timeoutMs / 1000}s`);
  if (/ACCESS_REFUSED|403/.test(message)) {
    return new TaskqError(`the broker at ${address.host}:${address.port} refused the login for user '${address.user}' (check the user name and password)`, ExitCode.connect);
  }
  if ((/NOT_ALLOWED|530/.test(message) && /vhost/i.test(message)) || /Expected ConnectionOpenOk/.test(message)) {
    return new TaskqError(`the broker at ${address.host}:${address.port} refused access to vhost '${address.vhost}' for user '${address.user}' (does the vhost exist, may the user use it?)`, ExitCode.connect);
  }
  if (/socket closed|ECONNRESET|Unexpected close/i.test(message)) {
    return brokerUnreachable(address, `the connection closed during the handshake (${message}); is this an AMQP port, and TLS where needed?`);
  }
  return brokerUnreachable(address, message);
}

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
