/** Every queue taskq names, and the arguments each is declared with. */

/** classic: the tutorial's declaration (no arguments); quorum: replicated (x-queue-type). */
export type QueueType = "classic" | "quorum";

/**
 * Longest work queue name: AMQP allows 255 bytes, and the longest name taskq makes from it is a
 * retry or delay queue's (`.retry.<ms>`, `.delay.<ms>`, the level at most 2^32 − 1: up to 17
 * bytes), so every name below fits. Past it a failed task's retry copy cannot even be encoded.
 */
export const MAX_QUEUE_NAME_BYTES = 255 - ".delay.4294967295".length;

/**
 * The one queue-name rule, for the CLI's `--queue` and the library's `queue` options alike: 1 to
 * MAX_QUEUE_NAME_BYTES (238) bytes, and not `amq.` something, which the broker reserves (a 403:
 * test/e2e/broker-rules.test.ts; it would refuse the declare only after connecting; "" would
 * declare a server-named queue nobody sends to). Returns why `name` is refused, worded for `option`
 * (where it came from), or undefined.
 *
 * @example
 * // "names starting with 'amq.' are reserved by the broker; use another --queue."
 * queueNameProblem("amq.x", "--queue");
 */
export function queueNameProblem(name: string, option: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > MAX_QUEUE_NAME_BYTES)
    return `a queue name is 1 to ${MAX_QUEUE_NAME_BYTES} bytes long (taskq adds up to 17 for its retry, delay and dead queues), got ${bytes}.`;
  if (name.startsWith("amq.")) return `names starting with 'amq.' are reserved by the broker; use another ${option}.`;
  return undefined;
}

/** The dead-letter queue that goes with a work queue. */
export const deadQueueName = (queue: string): string => `${queue}.dead`;

/** Where a `send --delay` parks its tasks until they are due. */
export const delayQueueName = (queue: string, delayMs: number): string => `${queue}.delay.${delayMs}`;

/** Where a failed task waits out its delay level before it comes back to `queue`. */
export const retryQueueName = (queue: string, levelMs: number): string => `${queue}.retry.${levelMs}`;

/** The arguments a taskq queue is declared with: none at all for classic, so pika's tutorial programs match. */
export function queueArguments(
  type: QueueType,
  extra: Record<string, unknown> = {},
): Record<string, unknown> | undefined {
  const args = type === "quorum" ? { "x-queue-type": "quorum", ...extra } : { ...extra };
  return Object.keys(args).length > 0 ? args : undefined;
}

/**
 * How `<queue>.retry.<ms>` hands its expired copies back to `target`: RabbitMQ's
 * dead-lettering through the default exchange. From a classic queue that hop is
 * at-most-once; a quorum retry queue makes it at-least-once (the copy stays in
 * the retry queue until the target confirmed it), which needs reject-publish
 * (RabbitMQ's "Dead Lettering" guide, at-least-once; test/e2e/cluster.test.ts).
 */
export function retryQueueArguments(target: string, type: QueueType, expiresMs?: number): Record<string, unknown> {
  const hop = {
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": target,
    ...(expiresMs !== undefined ? { "x-expires": expiresMs } : {}),
  };
  return type === "quorum"
    ? { ...hop, "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish" }
    : hop;
}

/** The level of `<queue>.retry.<ms>` or `<queue>.delay.<ms>` from its name; undefined for any other name. */
export function hopLevelOf(queue: string, name: string): number | undefined {
  const match = /^\.(?:retry|delay)\.(\d+)$/.exec(name.startsWith(queue) ? name.slice(queue.length) : "");
  return match ? Number(match[1]) : undefined;
}

/**
 * Retry and delay queues go away by themselves once unused (queue TTL, `x-expires`): RabbitMQ
 * deletes a queue that had no consumer, no basic.get and no redeclare for that long; a publish
 * does not count as a use, and the queue's messages go with it, never dead-lettered. A hop queue
 * has no consumer (its copies leave by TTL dead-lettering), so it lives as long as whoever
 * publishes into it declares it again.
 *
 * Invariant: a copy published into a hop queue of level L (a retry copy, a delayed task) counts
 * as placed only once its confirm came within E − L − E/8 of sending the last declare of that
 * queue written before it on its channel (E = max(2 L, L + margin), the queue's x-expires), and
 * was not returned (every such copy is flagged mandatory); else it goes again after a fresh
 * declare (at least once). Why that is enough: the broker handles a channel's frames in order, so
 * it handled that declare (sent at s) before the copy, at d ≥ s, and the queue's lease runs to at
 * least d + E ≥ s + E. A copy not returned landed in the queue at p ≤ c, its confirm, and leaves
 * within L (its TTL is at most L, and the queue's head expires no later than its own TTL, so
 * nothing behind it waits longer): by p + L ≤ s + E − E/8. The E/8 left (at least 75 s) covers
 * a slow hand-back (an at-least-once quorum hop keeps the copy until the work queue confirmed
 * it). Whatever held the copy (a memory alarm holds a publish in the broker, unread, after the
 * declare before it was handled; a cut; a slow turn; a suspended machine, hence the wall clock
 * too) only makes its confirm late or returns it. Shown: test/e2e/hop-renewal.test.ts (a delay
 * queue that expired between two tasks, one deleted by hand mid-send, retry copies and delayed
 * tasks held by an alarm past E − L, in the client and in the broker).
 *
 * The declare goes in the same synchronous step as the copy behind it whenever the last one on the
 * channel is E/8 old (publish/renewals.ts): copies confirmed in time are the rule, and a declare
 * costs the broker a round trip to the queue, so not one per copy: docs/performance.md.
 *
 * What it assumes: the queue lives E after a declare. An operator policy with a shorter `expires`
 * wins over x-expires (the broker takes the smaller: test/unit/core/topology/hop-expiry-policy.test.ts):
 * hop queues (`*.retry.*`, `*.delay.*`) must be left out of such policies (docs/operations.md).
 */
export const HOP_EXPIRY_MARGIN_MS = 10 * 60_000;

/**
 * taskq's bound on x-expires, 2^32 − 1 ms (the broker takes up to 10 years: test/e2e/broker-rules.test.ts); a level
 * whose expiry would pass it keeps no x-expires.
 */
const MAX_EXPIRES_MS = 2 ** 32 - 1;

/** x-expires for a hop queue of `levelMs`: max(2 L, L + margin), or undefined past MAX_EXPIRES_MS. */
export function hopExpiresMs(levelMs: number, marginMs = HOP_EXPIRY_MARGIN_MS): number | undefined {
  const expires = Math.max(2 * levelMs, levelMs + marginMs);
  return expires <= MAX_EXPIRES_MS ? expires : undefined;
}

/** When copies into a hop queue declare it again, and how late their confirm may come (see HOP_EXPIRY_MARGIN_MS). */
export function renewalTimes(expiresMs: number, levelMs: number): { everyMs: number; safeMs: number } {
  const slack = Math.floor(expiresMs / 8);
  return { everyMs: slack, safeMs: expiresMs - levelMs - slack };
}

/** How often an older taskq's hop queue (no renewal of ours) is checked again. */
export const redeclareEveryMs = (expiresMs: number): number => Math.floor(expiresMs / 4);
