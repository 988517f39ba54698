/**
 * Which connection failures are worth another try, and how long to wait:
 * one table and one delay function (as graphile/worker does).
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
  "CONNECTION_FORCED", // 320: broker shutting down or an operator closed us
  "LOST", // an open connection dropped
]);

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Share of each delay drawn at random (full jitter on that share). */
  jitter: number;
}

export const CONNECT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 };

/** Jittered exponential backoff: attempt 1 waits about `initialMs`. */
export function backoffDelay(attempt: number, backoff: Backoff = CONNECT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - backoff.jitter + backoff.jitter * random()));
}
