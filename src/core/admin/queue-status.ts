import type { Broker } from "../broker/connection.ts";
import type { RetryDelays } from "../failures/retry-policy.ts";
import { deadQueueName } from "../topology/names.ts";
import { type DeadTask, listDead } from "./dead-list.ts";
import { type FamilyQueue, type QueueRates, findFamily } from "./family.ts";
import type { ManagementClient } from "./management.ts";

export type { QueueRates } from "./family.ts";

/** Dead tasks peeked at for their reasons: enough to see the common causes, few enough for every --watch sample. */
export const REASON_SAMPLE = 100;

/** One `<queue>.retry.<ms>` or `<queue>.delay.<ms>` queue that exists. */
export interface LevelStatus {
  queue: string;
  levelMs: number;
  ready: number;
  /** Only with the management API. */
  unacked?: number;
  consumers: number;
}
export type RetryLevelStatus = LevelStatus;

/** The head of `<queue>.dead`: the task that died first among those still there. */
export interface OldestDead {
  messageId: string | undefined;
  /** `x-taskq-failed-at`, as the worker wrote it (ISO 8601). */
  failedAt: string | undefined;
  reason: string | undefined;
}

/** How many of the dead tasks peeked at died of one reason (`x-taskq-reason`; undefined: none given). */
export interface ReasonCount {
  reason: string | undefined;
  count: number;
}

export interface DeadStatus {
  queue: string;
  /** False until a first task has died (workers declare the dead queue then). */
  exists: boolean;
  ready: number;
  /** Only with the management API. */
  unacked?: number;
  consumers: number;
  oldest: OldestDead | undefined;
  /** Among the first `sampled` dead tasks, most frequent first. */
  reasons: ReasonCount[];
  sampled: number;
  /** Why no dead task was sampled though some are there (listDead's `unread`). */
  unsampled?: string;
}

/**
 * Where the status came from: the management API (everything), or AMQP alone (no unacked counts, no rates, guessed
 * levels).
 */
export type StatusSource = "management" | "amqp";

/** What `taskq status` shows about one work queue, read without changing anything. */
export type QueueStatus =
  | { queue: string; exists: false; source: StatusSource; missing?: string }
  | {
      queue: string;
      exists: true;
      ready: number;
      consumers: number;
      /** Delivered to a worker, not yet acked (in progress): only with the management API. */
      unacked?: number;
      /** Only with the management API, once the broker has statistics for the queue. */
      rates?: QueueRates;
      /** The retry levels whose queues exist, shortest delay first. */
      retries: LevelStatus[];
      /** `send --delay` levels whose queues exist (only the management API lists them). */
      delays: LevelStatus[];
      dead: DeadStatus;
      source: StatusSource;
      /** Without the management API: what is missing and why. */
      missing?: string;
    };

export interface StatusOptions {
  /** The workers' retry delays: the retry levels looked for when the management API does not answer. */
  retry: RetryDelays;
  /** Absent: AMQP only (--no-management). */
  management?: ManagementClient;
}

/**
 * Reads a work queue's state without changing anything: its family of queues
 * (findFamily: listed by the management API, else passive declares of the
 * names the retry policy gives), and `<queue>.dead`, whose first
 * REASON_SAMPLE tasks are looked at (listDead: left in place, in order, no
 * delivery spent) for the oldest one and the reasons. Where a look must move
 * the tasks (a quorum dead queue before RabbitMQ 4.3), only a dead queue of at
 * most REASON_SAMPLE tasks is sampled. Never creates a queue.
 *
 * @example
 * const status = await queueStatus(broker, "task_queue", { retry: DEFAULT_RETRY });
 * if (status.exists) console.log(status.ready, status.dead.ready);
 */
export async function queueStatus(broker: Broker, queue: string, options: StatusOptions): Promise<QueueStatus> {
  const family = await findFamily(broker, queue, options);
  const source: StatusSource = family.complete ? "management" : "amqp";
  const missing = family.complete ? {} : { missing: missingText(family.missing) };
  const work = family.queues.find((member) => member.role === "work");
  if (work === undefined) return { queue, exists: false, source, ...missing };
  const dead = family.queues.find((member) => member.role === "dead");
  const status: QueueStatus = {
    queue,
    exists: true,
    ready: work.ready,
    consumers: work.consumers,
    retries: levels(family.queues, "retry"),
    delays: levels(family.queues, "delay"),
    dead: dead === undefined ? noDead(queue) : await deadStatus(broker, queue, dead),
    source,
    ...missing,
  };
  if (work.unacked !== undefined) status.unacked = work.unacked;
  if (work.rates !== undefined) status.rates = work.rates;
  return status;
}

/** What the AMQP view cannot show, and why the API was not asked or did not answer. */
function missingText(why: string | undefined): string {
  const what =
    "in progress (unacked), rates, delay levels and retry levels from other --retry-delay settings need the management plugin";
  return why === undefined ? `${what} (--no-management)` : `${what}: ${why}`;
}

function levels(members: FamilyQueue[], role: "retry" | "delay"): LevelStatus[] {
  return members
    .filter((member) => member.role === role)
    .map((member) => {
      const level: LevelStatus = {
        queue: member.name,
        levelMs: member.levelMs ?? 0,
        ready: member.ready,
        consumers: member.consumers,
      };
      if (member.unacked !== undefined) level.unacked = member.unacked;
      return level;
    });
}

const noDead = (queue: string): DeadStatus => ({
  queue: deadQueueName(queue),
  exists: false,
  ready: 0,
  consumers: 0,
  oldest: undefined,
  reasons: [],
  sampled: 0,
});

async function deadStatus(broker: Broker, queue: string, member: FamilyQueue): Promise<DeadStatus> {
  const unacked = member.unacked === undefined ? {} : { unacked: member.unacked };
  // Nothing to peek at: no channel, no fetch (the common case on a healthy queue).
  if (member.ready === 0) return { ...noDead(queue), exists: true, consumers: member.consumers, ...unacked };
  const list = await listDead(broker, queue, REASON_SAMPLE, { moveAtMost: REASON_SAMPLE });
  const head = list.tasks[0];
  const oldest =
    head === undefined ? undefined : { messageId: head.messageId, failedAt: head.failedAt, reason: head.reason };
  const unsampled = list.unread === undefined ? {} : { unsampled: list.unread };
  return {
    queue: list.deadQueue,
    exists: list.exists,
    ready: list.total,
    consumers: list.consumers,
    oldest,
    reasons: countReasons(list.tasks),
    sampled: list.tasks.length,
    ...unacked,
    ...unsampled,
  };
}

/** Dead tasks grouped by reason, most frequent first (ties: the reason seen first). */
export function countReasons(tasks: ReadonlyArray<Pick<DeadTask, "reason">>): ReasonCount[] {
  const counts = new Map<string | undefined, number>();
  for (const task of tasks) counts.set(task.reason, (counts.get(task.reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}
