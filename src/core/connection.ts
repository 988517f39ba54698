import * as amqp from "amqplib";
import { hostname } from "node:os";
import { ExitCode, TaskqError } from "../errors.ts";
import { sleep } from "../util/clock.ts";
import { RETRYABLE_CONNECT_ERRORS, backoffDelay } from "./backoff.ts";
import { type BrokerAddress, brokerUnreachable, parseBrokerUrl, redact } from "./url.ts";

/** Where the broker is and how to reach it, resolved once from flags. */
export interface BrokerTarget {
  url: string;
  /** amqps: PEM contents. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Keep trying this long (retryable failures only) before giving up. */
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

/** A connection failure, with the key of RETRYABLE_CONNECT_ERRORS it falls under (if any). */
export class ConnectError extends TaskqError {
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message, ExitCode.connect);
  }
  get retryable(): boolean {
    return RETRYABLE_CONNECT_ERRORS.has(this.kind);
  }
}

export interface ConnectOptions {
  /** Shown in the management UI's connection list. */
  name?: string;
  /** Called before each wait between attempts. */
  onRetry?: (attempt: number, delayMs: number, error: ConnectError) => void;
  signal?: AbortSignal;
}

/**
 * Connects, retrying refused or dropped attempts with jittered backoff until
 * `target.connectTimeoutMs` has passed; a refused login or vhost fails at once.
 */
export async function connect(target: BrokerTarget | string, options: ConnectOptions = {}): Promise<Broker> {
  const t: BrokerTarget = typeof target === "string" ? { url: target, connectTimeoutMs: 5000 } : target;
  const deadline = Date.now() + t.connectTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(t, options.name, Math.max(1000, Math.min(5000, deadline - Date.now())));
    } catch (err) {
      if (!(err instanceof ConnectError) || !err.retryable || options.signal?.aborted) throw err;
      const delay = backoffDelay(attempt);
      if (Date.now() + delay >= deadline) throw err;
      options.onRetry?.(attempt, delay, err);
      await sleep(delay, options.signal);
    }
  }
}

async function connectOnce(target: BrokerTarget, name: string | undefined, timeoutMs: number): Promise<Broker> {
  const address = parseBrokerUrl(target.url);
  let model: amqp.ChannelModel;
  try {
    model = await withTimeout(
      amqp.connect(target.url, {
        noDelay: true,
        timeout: timeoutMs,
        ...(target.tls ?? {}),
        clientProperties: { connection_name: name ?? `taskq@${hostname()}` },
      }),
      timeoutMs + 500,
    );
  } catch (err) {
    throw connectError(address, err, timeoutMs);
  }
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

/** Connects again after a loss; `since` is when the outage began (the first loss not followed by a working session). */
export type Reconnect = (since: number) => Promise<Broker>;

/**
 * A `Reconnect` that gives up (exit 3) `timeoutMs` after the outage began, however many
 * connections in between got through the handshake and died while being set up.
 */
export function reconnector(target: BrokerTarget, timeoutMs: number, options: ConnectOptions = {}): Reconnect {
  return async (since) => {
    const left = since + timeoutMs - Date.now();
    if (left <= 0) {
      const { host, port } = parseBrokerUrl(target.url);
      throw new ConnectError(`no working connection to the broker at ${host}:${port} within ${timeoutMs / 1000}s of losing it`, "GAVE_UP");
    }
    return connect({ ...target, connectTimeoutMs: left }, options);
  };
}

/**
 * `work` on `broker`, or the connection's own error (kind "LOST") if the connection goes away
 * first: amqplib can leave a channel open or a declare pending for ever when that happens.
 */
export function whileUp<T>(broker: Broker, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    broker.lost.then((err) => {
      throw err;
    }),
  ]);
}

/** A connection lost while something was being done on it (see `whileUp`). */
export const isLost = (err: unknown): boolean => err instanceof ConnectError && err.kind === "LOST";

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is RabbitMQ running?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
};

function connectError(address: BrokerAddress, err: unknown, timeoutMs: number): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as NodeJS.ErrnoException;
  const message = redact(String(e?.message ?? err), address);
  const unreachable = (reason: string, kind: string) => new ConnectError(brokerUnreachable(address, reason).message, kind);
  if (e?.code && REASONS[e.code]) {
    const hint = e.code === "ECONNRESET" && address.protocol === "amqp" ? " (a TLS-only port? try amqps://)" : "";
    return unreachable(`${REASONS[e.code] ?? e.code}${hint}`, e.code);
  }
  if (/ETIMEDOUT|timed out/i.test(message)) return unreachable(`no answer within ${timeoutMs / 1000}s`, "ETIMEDOUT");
  if (/ACCESS_REFUSED|403/.test(message)) {
    return new ConnectError(`the broker at ${address.host}:${address.port} refused the login for user '${address.user}' (check the user name and password)`, "ACCESS_REFUSED");
  }
  if ((/NOT_ALLOWED|530/.test(message) && /vhost/i.test(message)) || /Expected ConnectionOpenOk/.test(message)) {
    return new ConnectError(`the broker at ${address.host}:${address.port} refused access to vhost '${address.vhost}' for user '${address.user}' (does the vhost exist, may the user use it?)`, "NOT_ALLOWED");
  }
  if (/CONNECTION_FORCED|320/.test(message)) return unreachable(`the broker closed the connection (${message})`, "CONNECTION_FORCED");
  if (/WRONG_VERSION_NUMBER/.test(`${message} ${e?.code ?? ""}`)) {
    return unreachable(`TLS failed: the server did not answer with TLS; is ${address.port} an amqps port?`, "TLS");
  }
  if (/certificate|self.signed|SSL|TLS|unable to verify|ERR_TLS/i.test(message) || /^ERR_SSL|^ERR_TLS|CERT/.test(e?.code ?? "")) {
    return unreachable(`TLS failed: ${message}${e?.code ? ` (${e.code})` : ""}; check --ca, --cert and --key`, "TLS");
  }
  if (/socket closed|Unexpected close|Socket closed abruptly/i.test(message)) {
    return unreachable(`the connection closed during the handshake (${message}); is this an AMQP port, and TLS where needed?`, "HANDSHAKE");
  }
  return unreachable(message, "OTHER");
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
