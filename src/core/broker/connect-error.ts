import { ExitCode, TaskqError } from "../../errors.ts";
import type { Backoff } from "../../util/backoff.ts";
import { isHandshakeClosed, isOpenRefused } from "./amqplib.ts";
import { type BrokerAddress, brokerUnreachable, redact } from "./url.ts";

/**
 * Which connection failures are worth another try, and how long to wait between tries:
 * one table (as graphile/worker's RETRYABLE_ERROR_CODES).
 */
export const RETRYABLE_CONNECT_ERRORS: ReadonlySet<string> = new Set([
  "ECONNREFUSED", // broker not (yet) listening: restarting, booting
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN", // DNS hiccup
  "HANDSHAKE", // closed during the AMQP handshake (node still booting)
  "CONNECTION_FORCED", // 320: broker shutting down or an operator closed us (test/e2e/security.test.ts)
  "LOST", // an open connection dropped
]);

/** Waits between connection attempts (backoffDelay). */
export const CONNECT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 };

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

/** What amqplib's connect failure means for the user, as one line naming host:port (never the password). */
export function connectError(address: BrokerAddress, err: unknown, timeoutMs: number): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as NodeJS.ErrnoException;
  const message = redact(String(e?.message ?? err), address);
  const unreachable = (reason: string, kind: string) =>
    new ConnectError(brokerUnreachable(address, reason).message, kind);
  if (e?.code && REASONS[e.code]) {
    const hint = e.code === "ECONNRESET" && address.protocol === "amqp" ? " (a TLS-only port? try amqps://)" : "";
    return unreachable(`${REASONS[e.code] ?? e.code}${hint}`, e.code);
  }
  if (/ETIMEDOUT|timed out/i.test(message)) return unreachable(`no answer within ${timeoutMs / 1000}s`, "ETIMEDOUT");
  if (/ACCESS_REFUSED|403/.test(message)) {
    return new ConnectError(
      `the broker at ${address.host}:${address.port} refused the login for user '${address.user}' (check the user name and password)`,
      "ACCESS_REFUSED",
    );
  }
  if ((/NOT_ALLOWED|530/.test(message) && /vhost/i.test(message)) || isOpenRefused(message)) {
    return new ConnectError(
      `the broker at ${address.host}:${address.port} refused access to vhost '${address.vhost}' for user '${address.user}' (does the vhost exist, may the user use it?)`,
      "NOT_ALLOWED",
    );
  }
  if (/CONNECTION_FORCED|320/.test(message))
    return unreachable(`the broker closed the connection (${message})`, "CONNECTION_FORCED");
  if (/WRONG_VERSION_NUMBER/.test(`${message} ${e?.code ?? ""}`)) {
    return unreachable(`TLS failed: the server did not answer with TLS; is ${address.port} an amqps port?`, "TLS");
  }
  if (
    /certificate|self.signed|SSL|TLS|unable to verify|ERR_TLS/i.test(message) ||
    /^ERR_SSL|^ERR_TLS|CERT/.test(e?.code ?? "")
  ) {
    return unreachable(`TLS failed: ${message}${e?.code ? ` (${e.code})` : ""}; check --ca, --cert and --key`, "TLS");
  }
  if (isHandshakeClosed(message)) {
    return unreachable(
      `the connection closed during the handshake (${message}); is this an AMQP port, and TLS where needed?`,
      "HANDSHAKE",
    );
  }
  return unreachable(message, "OTHER");
}
