import type { GetMessage } from "amqplib";
import type { Broker } from "../broker/connection.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { makeCopy } from "../failures/copy-table.ts";
import { Publisher } from "../publish/publisher.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue, declareQueues } from "../topology/queues.ts";
import { acrossFailovers } from "./dead-across.ts";
import { deadTask, withPeekChannel } from "./dead-list.ts";
import { type DeadSelector, deadKey, selects } from "./dead-select.ts";

export interface RequeueOptions {
  /** Move at most this many tasks. */
  limit?: number;
  /** Move only the tasks it selects (default: all). */
  selector?: DeadSelector;
  /** The instant ages (`olderThanMs`) are judged at, epoch ms (default: when it starts). */
  now?: number;
  /** Told after each batch is confirmed and acked: the keys (`deadKey`) of the tasks moved. */
  onMoved?: (keys: Array<string | undefined>) => void;
  /** Tasks moved already whose ack was lost with a connection: removed from the dead queue, not copied again. */
  moved?: ReadonlySet<string>;
  /** `requeueDeadAcross`: told when the connection is lost (it goes on through the next one). */
  onLost?: (error: Error) => void;
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
 * loop; tasks the selector skips stay where they were, in their order (left
 * unacked, they go back to their place when the channel closes).
 *
 * @example
 * const { moved } = await requeueDead(broker, "task_queue", { selector: { exitCode: 3 } });
 */
export async function requeueDead(broker: Broker, queue: string, options: RequeueOptions = {}): Promise<RequeueResult> {
  const deadQueue = deadQueueName(queue);
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return { deadQueue, exists: false, moved: 0 };
  // Passive when it exists: the work queue may be quorum, and a classic declare would be refused (406).
  if ((await checkQueue(broker, queue)) === undefined) await declareQueues(broker, [queue]);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const selector = options.selector ?? {};
  const at = options.now ?? Date.now();
  const publisher = await Publisher.open(broker, { window: REQUEUE_BATCH });
  let moved = 0;
  try {
    await withPeekChannel(broker, deadQueue, async (channel) => {
      const batch: Array<{ msg: GetMessage; key: string | undefined }> = [];
      const settle = async () => {
        await publisher.flush();
        for (const { msg } of batch) channel.ack(msg);
        moved += batch.length;
        options.onMoved?.(batch.map((b) => b.key));
        batch.length = 0;
      };
      for (let seen = 0; seen < info.messageCount && moved + batch.length < limit; seen++) {
        const msg = await channel.get(deadQueue, { noAck: false });
        if (msg === false) break;
        const task = deadTask(msg);
        if (!selects(selector, task, at)) continue;
        const key = deadKey(task);
        if (key !== undefined && options.moved?.has(key)) {
          channel.ack(msg); // its copy was confirmed before the connection that took it died
          continue;
        }
        const copy = makeCopy({ queue, body: msg.content, properties: msg.properties, attempt: 1 }, { kind: "requeue" });
        await publisher.publish(copy.queue, copy.body, copy.properties);
        batch.push({ msg, key });
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
 * `requeueDead`, carried on across lost connections (see `acrossFailovers`). A task
 * whose copy was not confirmed is still in the dead queue (unacked, so given
 * back) and is moved on the next connection: the work queue may get it twice,
 * never none. A task whose copy was confirmed but whose ack died with the
 * connection is found again by its key and only removed from the dead queue,
 * so none is left there twice over.
 */
export async function requeueDeadAcross(broker: Broker, reconnector: Reconnector, queue: string, options: RequeueOptions = {}): Promise<RequeueResult> {
  const movedKeys = new Set<string>();
  let moved = 0;
  const onMoved = (keys: Array<string | undefined>) => {
    moved += keys.length;
    for (const key of keys) if (key !== undefined) movedKeys.add(key);
  };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const now = options.now ?? Date.now();
  const pass = async (current: Broker) => {
    const left = options.limit === undefined ? {} : { limit: options.limit - moved };
    const result = await requeueDead(current, queue, { ...options, ...left, now, moved: movedKeys, onMoved });
    return { ...result, moved };
  };
  return acrossFailovers(broker, reconnector, pass, { done: () => moved >= limit, onLost: options.onLost });
}
