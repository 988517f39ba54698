import type { Channel, GetMessage } from "amqplib";
import { type Broker, quiet } from "./connection.ts";
import { DEAD_HEADERS, makeCopy } from "./copies.ts";
import { Publisher } from "./publisher.ts";
import { checkQueue, deadQueueName, declareQueues, queueError } from "./queue.ts";

/** One task parked in `<queue>.dead`, with why it died (from its x-taskq-* headers). */
export interface DeadTask {
  readonly messageId: string | undefined;
  readonly body: Buffer;
  readonly reason: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly failedAt: string | undefined;
  readonly attempts: number | undefined;
  readonly host: string | undefined;
  readonly originalQueue: string | undefined;
  readonly headers: Record<string, unknown>;
}

export interface DeadList {
  deadQueue: string;
  /** False when `<queue>.dead` was never declared (no task ever failed). */
  exists: boolean;
  /** Ready tasks in the dead queue when listing began. */
  total: number;
  /** Consumers on the dead queue when listing began. */
  consumers: number;
  tasks: DeadTask[];
}

export interface RequeueOptions {
  /** Move at most this many tasks. */
  limit?: number;
  /** Move only tasks with this message id. */
  id?: string;
}

export interface RequeueResult {
  deadQueue: string;
  exists: boolean;
  moved: number;
}

/** Dead tasks published before one confirm wait; a failure duplicates at most this many. */
const REQUEUE_BATCH = 100;

/**
 * Shows up to `limit` dead tasks of `<queue>.dead` without removing them: they
 * are fetched unacked and handed back when the channel closes, which puts them
 * back at their place in the queue.
 *
 * @example
 * const { tasks } = await listDead(broker, "task_queue", 20);
 */
export async function listDead(broker: Broker, queue: string, limit: number): Promise<DeadList> {
  const deadQueue = deadQueueName(queue);
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return { deadQueue, exists: false, total: 0, consumers: 0, tasks: [] };
  const tasks: DeadTask[] = [];
  await withPeekChannel(broker, deadQueue, async (channel) => {
    while (tasks.length < limit) {
      const msg = await channel.get(deadQueue, { noAck: false });
      if (msg === false) break;
      tasks.push(deadTask(msg));
    }
  });
  return { deadQueue, exists: true, total: Math.max(info.messageCount, tasks.length), consumers: info.consumerCount, tasks };
}

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
 * Runs `fn` on a channel whose unacked deliveries all go back to the queue when
 * it closes (AMQP requeues them in their original order), whatever `fn` did.
 */
async function withPeekChannel(broker: Broker, queue: string, fn: (channel: Channel) => Promise<void>): Promise<void> {
  const channel = quiet(await broker.model.createChannel());
  try {
    await fn(channel);
  } catch (err) {
    throw (err as { code?: number })?.code !== undefined ? queueError(broker, queue, err) : err;
  } finally {
    await channel.close().catch(() => {});
  }
}

function deadTask(msg: GetMessage): DeadTask {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  return {
    messageId: asString(msg.properties.messageId),
    body: msg.content,
    reason: asString(headers[DEAD_HEADERS.reason]),
    exitCode: nullable(headers[DEAD_HEADERS.exitCode], asNumber),
    signal: nullable(headers[DEAD_HEADERS.signal], asString),
    failedAt: asString(headers[DEAD_HEADERS.failedAt]),
    attempts: asNumber(headers[DEAD_HEADERS.attempts]),
    host: asString(headers[DEAD_HEADERS.host]),
    originalQueue: asString(headers[DEAD_HEADERS.queue]),
    headers,
  };
}

const asString = (value: unknown): string | undefined => (typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : undefined);

function asNumber(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function nullable<T>(value: unknown, parse: (v: unknown) => T | undefined): T | null | undefined {
  return value === null ? null : parse(value);
}
