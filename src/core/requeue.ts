import type { GetMessage } from "amqplib";
import { isLost } from "./connect-error.ts";
import { type Broker, whileUp } from "./connection.ts";
import { makeCopy } from "./copies.ts";
import { withPeekChannel } from "./dead.ts";
import { Publisher } from "./publisher.ts";
import { checkQueue, deadQueueName, declareQueues } from "./queue.ts";
import type { Reconnector } from "./reconnector.ts";

export interface RequeueOptions {
  /** Move at most this many tasks. */
  limit?: number;
  /** Move only tasks with this message id. */
  id?: string;
  /** Told after each batch is confirmed and acked. */
  onMoved?: (count: number) => void;
}

export interface RequeueResult {
  deadQueue: string;
  exists: boolean;
  moved: number;
}

/** Dead tasks published before one confirm wait; a failure duplicates at most this many. */
const REQUEUE_BATCH = 100;

/**
 * Moves dead tasks back to `queue`: each is published again (persistent,
 * confirmed, same body and properties, without the dead and attempt headers)
 * and acked in the dead queue only once the broker confirmed the copy. A crash
 * in between duplicates a task rather than losing it. Only the tasks present
 * when it starts are looked at, so a worker failing them again cannot make it
 * loop; tasks skipped by `id` stay where they were.
 *
 * @example
 * const { moved } = await requeueDead(broker, "task_queue", { id: "3f9a0c-2" });
 */
export async function requeueDead(broker: Broker, queue: string, options: RequeueOptions = {}): Promise<RequeueResult> {
  const deadQueue = deadQueueName(queue);
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return { deadQueue, exists: false, moved: 0 };
  // Passive when it exists: the work queue may be quorum, and a classic declare would be refused (406).
  if ((await checkQueue(broker, queue)) === undefined) await declareQueues(broker, [queue]);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const publisher = await Publisher.open(broker, { window: REQUEUE_BATCH });
  let moved = 0;
  try {
    await withPeekChannel(broker, deadQueue, async (channel) => {
      const batch: GetMessage[] = [];
      const settle = async () => {
        await publisher.flush();
        for (const msg of batch) channel.ack(msg);
        moved += batch.length;
        options.onMoved?.(batch.length);
        batch.length = 0;
      };
      for (let seen = 0; seen < info.messageCount && moved + batch.length < limit; seen++) {
        const msg = await channel.get(deadQueue, { noAck: false });
        if (msg === false) break;
        if (options.id !== undefined && msg.properties.messageId !== options.id) continue;
        const copy = makeCopy({ queue, body: msg.content, properties: msg.properties, attempt: 1 }, { kind: "requeue" });
        await publisher.publish(copy.queue, copy.body, copy.properties);
        batch.push(msg);
        if (batch.length >= REQUEUE_BATCH) await settle();
      }
      await settle();
    });
  } finally {
    await publisher.close();
  }
  return { deadQueue, exists: true, moved };
}

/**
 * `requeueDead`, carried on across lost connections (a node of the cluster
 * killed): the reconnector finds the next node and the move goes on. Tasks
 * moved were acked in the dead queue, so they are never moved twice; those
 * whose copy was unconfirmed when the connection dropped are still in the dead
 * queue (unacked, so returned) and are moved on the next connection: the work
 * queue may get one twice, the dead queue never keeps one.
 */
export async function requeueDeadAcross(broker: Broker, reconnector: Reconnector, queue: string, options: RequeueOptions = {}): Promise<RequeueResult> {
  let moved = 0;
  let current = broker;
  try {
    for (;;) {
      const limit = options.limit === undefined ? {} : { limit: options.limit - moved };
      try {
        const result = await whileUp(current, requeueDead(current, queue, { ...options, ...limit, onMoved: (n) => void (moved += n) }));
        return { ...result, moved };
      } catch (err) {
        if (!isLost(err)) throw err;
        await current.close();
        reconnector.lost(current);
        current = await reconnector.connect();
      }
    }
  } finally {
    if (current !== broker) await current.close();
  }
}
