/** Every queue taskq names, and the arguments each is declared with. */

/** classic: the tutorial's declaration (no arguments); quorum: replicated (x-queue-type). */
export type QueueType = "classic" | "quorum";

/** The dead-letter queue that goes with a work queue. */
export const deadQueueName = (queue: string): string => `${queue}.dead`;

/** Where a `send --delay` parks its tasks until they are due. */
export const delayQueueName = (queue: string, delayMs: number): string => `${queue}.delay.${delayMs}`;

/** Where a failed task waits out its delay level before it comes back to `queue`. */
export const retryQueueName = (queue: string, levelMs: number): string => `${queue}.retry.${levelMs}`;

/** The arguments a taskq queue is declared with: none at all for classic, so pika's tutorial programs match. */
export function queueArguments(type: QueueType, extra: Record<string, unknown> = {}): Record<string, unknown> | undefined {
  const args = type === "quorum" ? { "x-queue-type": "quorum", ...extra } : { ...extra };
  return Object.keys(args).length > 0 ? args : undefined;
}

/**
 * How `<queue>.retry.<ms>` hands its expired copies back to `target`: RabbitMQ's
 * dead-lettering through the default exchange. From a classic queue that hop is
 * at-most-once; a quorum retry queue makes it at-least-once (the copy stays in
 * the retry queue until the target confirmed it), which needs reject-publish.
 */
export function retryQueueArguments(target: string, type: QueueType, expiresMs?: number): Record<string, unknown> {
  const hop = { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target, ...(expiresMs !== undefined ? { "x-expires": expiresMs } : {}) };
  return type === "quorum" ? { ...hop, "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish" } : hop;
}

/** The level of `<queue>.retry.<ms>` or `<queue>.delay.<ms>` from its name; undefined for any other name. */
export function hopLevelOf(queue: string, name: string): number | undefined {
  const match = /^\.(?:retry|delay)\.(\d+)$/.exec(name.startsWith(queue) ? name.slice(queue.length) : "");
  return match ? Number(match[1]) : undefined;
}

/**
 * Retry and delay queues go away by themselves once unused (queue TTL, `x-expires`): RabbitMQ
 * deletes a queue that had no consumer, no basic.get and no redeclare for that long; a publish
 * does not count as a use. A hop queue has no consumer (its copies leave by TTL dead-lettering),
 * so it lives as long as whoever publishes into it redeclares it, at least every
 * `redeclareEveryMs(expires)` (Copier, sendTasks).
 *
 * Why no task is lost that way. Every copy in a hop queue of level L leaves it (dead-lettered back
 * to its work queue) within L of reaching it: copies carry a TTL of at most L (retries: L jittered
 * down; delays: L), and the queue's head expires no later than its own TTL, so nothing behind it
 * waits longer. Each publish is preceded by a declare at most R = E / 4 earlier, taken as when it
 * was sent (the broker resets its timer no sooner). So a queue holding a copy published at t was
 * declared at or after t − R and cannot expire before t − R + E = t + 3E/4 ≥ t + 1.5 L: by then
 * the copy has been gone for at least 0.5 L, and for at least 5 minutes when L is under 10
 * minutes (E ≥ L + 10 min). That slack covers the time a copy spends between its publish and its
 * arrival, and a slow hand-back (an at-least-once quorum hop waits for the work queue's confirm).
 * RabbitMQ deletes an expiring queue's messages with it, without dead-lettering them, hence the
 * rule: never a copy in a queue whose last declare is older than R. A copy published into a queue
 * that expired in between is unroutable: the copier publishes mandatory (it comes back, the copy
 * fails, the task is not acked), and sendTasks checks its queues at the end.
 */
export const HOP_EXPIRY_MARGIN_MS = 10 * 60_000;

/** The broker's timers take at most 2^32 − 1 ms; a level whose expiry would pass it keeps no x-expires. */
const MAX_EXPIRES_MS = 2 ** 32 - 1;

/** x-expires for a hop queue of `levelMs`: max(2 L, L + margin), or undefined past the broker's limit. */
export function hopExpiresMs(levelMs: number, marginMs = HOP_EXPIRY_MARGIN_MS): number | undefined {
  const expires = Math.max(2 * levelMs, levelMs + marginMs);
  return expires <= MAX_EXPIRES_MS ? expires : undefined;
}

/** How often a publisher redeclares a hop queue that expires after `expiresMs` (see HOP_EXPIRY_MARGIN_MS). */
export const redeclareEveryMs = (expiresMs: number): number => Math.floor(expiresMs / 4);
