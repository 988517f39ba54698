import type { Broker } from "../broker/connection.ts";
import { type QueueInfo, checkQueue, queueError, withChannel } from "../topology/queues.ts";

/** The work queue's counts before a purge (passive: never creates it); undefined when it does not exist. */
export const workQueueInfo = (broker: Broker, queue: string): Promise<QueueInfo | undefined> =>
  checkQueue(broker, queue);

/**
 * Deletes the ready tasks of `queue` (queue.purge): tasks delivered to workers and not yet acked
 * are not touched (a worker that fails one still retries it: test/e2e/broker-rules.test.ts).
 * Returns how many were deleted.
 *
 * @example
 * const removed = await purgeQueue(broker, "task_queue");
 */
export function purgeQueue(broker: Broker, queue: string): Promise<number> {
  return withChannel(broker, async (channel) => {
    try {
      return (await channel.purgeQueue(queue)).messageCount;
    } catch (err) {
      throw queueError(broker, queue, err);
    }
  });
}
