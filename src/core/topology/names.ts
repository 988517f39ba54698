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
export function retryQueueArguments(target: string, type: QueueType): Record<string, unknown> {
  const hop = { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target };
  return type === "quorum" ? { ...hop, "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish" } : hop;
}
