/** Jittered exponential backoff, for connections and copies (as graphile/worker's calculateDelay). */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Share of each delay drawn at random (full jitter on that share). */
  jitter: number;
}

/** Jittered exponential backoff: attempt 1 waits about `initialMs`. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - backoff.jitter + backoff.jitter * random()));
}
