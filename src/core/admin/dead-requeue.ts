import type { GetMessage } from "amqplib";
import type { Broker } from "../broker/connection.ts";
import { makeCopy } from "../failures/copy-table.ts";
import { DEAD_HEADERS } from "../headers.ts";
import { withPeekChannel } from "./dead-list.ts";
import { Publisher } from "../publish/publisher.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue, declareQueues } from "../topology/queues.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { sleep } from "../../util/clock.ts";

export interface RequeueOptions {
  /** Move at most this many tasks. */
  limit?: number;
  /** Move only tasks with this message id. */
  id?: string;
  /** Told after each batch is confirmed and acked: the keys (`movedKey`) of the tasks moved. */
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
        options.onMoved?.(batch.map(movedKey));
        batch.length = 0;
      };
      for (let seen = 0; seen < info.messageCount && moved + batch.length < limit; seen++) {
        const msg = await channel.get(deadQueue, { noAck: false });
        if (msg === false) break;
        if (options.id !== undefined && msg.properties.messageId !== options.id) continue;
        const key = movedKey(msg);
        if (key !== undefined && options.moved?.has(key)) {
          channel.ack(msg); // its copy was confirmed before the connection that took it died
          continue;
        }
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
 * killed): the reconnector finds the next node and the move goes on. A task
 * whose copy was not confirmed is still in the dead queue (unacked, so given
 * back) and is moved on the next connection: the work queue may get it twice,
 * never none. A task whose copy was confirmed but whose ack died with the
 * connection is found again by a sweep after the failover and only removed
 * from the dead queue, so none is left there twice over.
 */
export async function requeueDeadAcross(broker: Broker, reconnector: Reconnector, queue: string, options: RequeueOptions = {}): Promise<RequeueResult> {
  const movedKeys = new Set<string>();
  let moved = 0;
  let failovers = 0;
  const onMoved = (keys: Array<string | undefined>) => {
    moved += keys.length;
    for (const key of keys) if (key !== undefined) movedKeys.add(key);
  };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  return reconnector.run(
    async (current) => {
      for (let sweeps = 0; ; sweeps++) {
        const left = options.limit === undefined ? {} : { limit: options.limit - moved };
        const result = await requeueDead(current, queue, { ...options, ...left, moved: movedKeys, onMoved });
        // The tasks the lost connection had fetched come back to the dead queue once the broker
        // notices it is gone (a new leader, for a quorum queue): after a failover, look again.
        if (failovers === 0 || !result.exists || moved >= limit || sweeps >= SWEEPS) return { ...result, moved };
        await sleep(SWEEP_PAUSE_MS);
      }
    },
    {
      first: broker,
      onLost: (err) => {
        failovers++;
        options.onLost?.(err);
      },
    },
  );
}

/**
 * One dead message, as moved: its id and when it died. A task moved, run and failed again is back
 * with a new failure time: another key, so it is not mistaken for the copy already made.
 */
function movedKey(msg: GetMessage): string | undefined {
  const id = msg.properties.messageId as string | undefined;
  return id === undefined ? undefined : `${id}\u0000${String((msg.properties.headers ?? {})[DEAD_HEADERS.failedAt] ?? "")}`;
}

/** After a failover: passes over the dead queue, a pause apart, for the tasks the lost connection held. */
const SWEEPS = 5;
const SWEEP_PAUSE_MS = 1000;
