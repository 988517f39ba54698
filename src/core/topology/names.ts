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
 * does not count as a use, and the queue's messages go with it, never dead-lettered. A hop queue
 * has no consumer (its copies leave by TTL dead-lettering), so it lives as long as whoever
 * publishes into it declares it again.
 *
 * Invariant: every copy published into a hop queue of level L (a retry copy, a delayed task) is
 * routed right after a declare of that queue, processed by the broker just before it. Each copy
 * is written on its publishing channel straight after a `nowait` queue.declare with the queue's
 * own arguments (HopQueues' `Renewal`, Publisher), with no await between them; the broker's
 * channel process handles a channel's frames in order, and an alarm stops a connection's reader
 * only after a whole publish, never between a declare and the publish behind it. So the declare
 * (re)creates the queue if it expired, and restarts its lease E = max(2 L, L + margin) just
 * before the copy lands, however long the two waited on the client (an alarm, a full window) or
 * in the socket. The copy leaves within L of landing (its TTL is at most L, and the queue's head
 * expires no later than its own TTL, so nothing behind it waits longer); the queue lives at least
 * E ≥ L + 10 min from then: the slack covers a slow hand-back (an at-least-once quorum hop waits
 * for the work queue's confirm). Shown: test/e2e/hop-renewal.test.ts (an alarm longer than
 * E − L between a declare and a copy; a delay queue that expired between two tasks).
 *
 * What it costs: a declare per copy, handled by the broker (no round trip for the publisher):
 * docs/performance.md, `send --delay`.
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
