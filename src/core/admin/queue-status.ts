import type { Broker } from "../broker/connection.ts";
import { retryQueueName } from "../topology/names.ts";
import { listDead } from "./dead-list.ts";
import { checkQueue } from "../topology/queues.ts";
import { type RetryDelays, retryLevels } from "../failures/retry-policy.ts";

/** AMQP queue names are short strings: at most 255 bytes. */
const MAX_QUEUE_NAME_BYTES = 255;

/** One `<queue>.retry.<ms>` queue that exists. */
export interface RetryLevelStatus {
  queue: string;
  levelMs: number;
  ready: number;
  consumers: number;
}

/** The head of `<queue>.dead`: the task that died first among those still there. */
export interface OldestDead {
  messageId: string | undefined;
  /** `x-taskq-failed-at`, as the worker wrote it (ISO 8601). */
  failedAt: string | undefined;
  reason: string | undefined;
}

export interface DeadStatus {
  queue: string;
  /** False until a first task has died (workers declare the dead queue then). */
  exists: boolean;
  ready: number;
  consumers: number;
  oldest: OldestDead | undefined;
}

/** What `taskq status` shows about one work queue, read with passive declares only. */
export type QueueStatus =
  | { queue: string; exists: false }
  | {
      queue: string;
      exists: true;
      ready: number;
      consumers: number;
      /** The retry levels of the policy whose queues exist, shortest delay first. */
      retries: RetryLevelStatus[];
      dead: DeadStatus;
    };

/**
 * Reads a work queue's state without changing anything: passive declares of the
 * work queue, of each retry level the policy can use (levels from other settings
 * are not seen: without the management plugin there is no listing queues), and
 * of `<queue>.dead`, whose head is peeked at (fetched unacked on a throwaway
 * channel, handed back when it closes). Never creates a queue.
 *
 * @example
 * const status = await queueStatus(broker, "task_queue", DEFAULT_RETRY);
 * if (status.exists) console.log(status.ready, status.dead.ready);
 */
export async function queueStatus(broker: Broker, queue: string, policy: RetryDelays): Promise<QueueStatus> {
  const work = await checkQueue(broker, queue);
  if (work === undefined) return { queue, exists: false };
  const levels = retryLevels(policy)
    .map((levelMs) => ({ levelMs, name: retryQueueName(queue, levelMs) }))
    .filter((level) => Buffer.byteLength(level.name) <= MAX_QUEUE_NAME_BYTES);
  // Each passive declare has its own channel (a missing queue closes it), so they can all go at once.
  const [infos, dead] = await Promise.all([Promise.all(levels.map((level) => checkQueue(broker, level.name))), deadStatus(broker, queue)]);
  const retries: RetryLevelStatus[] = [];
  levels.forEach((level, i) => {
    const info = infos[i];
    if (info !== undefined) retries.push({ queue: level.name, levelMs: level.levelMs, ready: info.messageCount, consumers: info.consumerCount });
  });
  return { queue, exists: true, ready: work.messageCount, consumers: work.consumerCount, retries, dead };
}

async function deadStatus(broker: Broker, queue: string): Promise<DeadStatus> {
  const list = await listDead(broker, queue, 1);
  const head = list.tasks[0];
  const oldest = head === undefined ? undefined : { messageId: head.messageId, failedAt: head.failedAt, reason: head.reason };
  return { queue: list.deadQueue, exists: list.exists, ready: list.total, consumers: list.consumers, oldest };
}
