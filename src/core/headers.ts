/**
 * Every header taskq reads or writes on a task, and the one way a number is read from one.
 * Those taskq sets are `x-taskq-*`; the broker sets `x-delivery-count`, `x-acquired-count` and `x-death`.
 */

/** Set on a re-published task to carry its attempt count. */
export const ATTEMPT_HEADER = "x-taskq-attempt";

/** Counts "not now" answers (exit 75). */
export const DEFERRALS_HEADER = "x-taskq-deferrals";

/**
 * Times the task came back from a worker that died (or lost its connection) holding it, since its
 * last attempt ended: set on the copy that takes its place (failures/redeliveries.ts).
 */
export const REDELIVERIES_HEADER = "x-taskq-redeliveries";

/** Why the last attempt failed. */
export const LAST_ERROR_HEADER = "x-taskq-last-error";

/** The last bytes the failed attempt wrote to stderr (or a library handler's detail): on retry and dead copies. */
export const STDERR_HEADER = "x-taskq-stderr";

/** What a dead task carries to say why it died. */
export const DEAD_HEADERS = {
  reason: "x-taskq-reason",
  exitCode: "x-taskq-exit-code",
  signal: "x-taskq-signal",
  failedAt: "x-taskq-failed-at",
  host: "x-taskq-worker-host",
  queue: "x-taskq-original-queue",
  attempts: "x-taskq-attempts",
} as const;

/**
 * Set by quorum queues on a redelivery (test/e2e/quorum.test.ts); already folded into `attempt`, so never copied
 * into a re-published task.
 */
export const DELIVERY_COUNT_HEADER = "x-delivery-count";

/**
 * Set by quorum queues from RabbitMQ 4.3: every return, while x-delivery-count counts only failed deliveries (task.ts
 * returnsOf; test/e2e/switch-returns.test.ts, test/e2e/dead-peek.test.ts).
 */
export const ACQUIRED_COUNT_HEADER = "x-acquired-count";

/**
 * Set by RabbitMQ's dead-lettering (the retry queue's expiry): history of the hop, not of the task
 * (dead-peek.test.ts).
 */
export const DEATH_HEADER = "x-death";

/**
 * A header value as a finite number: numbers, bigints and numeric strings (other clients
 * write them so); anything else, a blank string included, is undefined.
 *
 * @example
 * headerNumber("3"); // 3
 */
export function headerNumber(value: unknown): number | undefined {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "bigint"
        ? Number(value)
        : typeof value === "string" && value.trim() !== ""
          ? Number(value)
          : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}
