import type { Channel, GetMessage } from "amqplib";
import type { Broker } from "../broker/connection.ts";
import { DEAD_HEADERS, STDERR_HEADER, headerNumber } from "../headers.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue, queueError, withChannel } from "../topology/queues.ts";

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
  /** The last bytes its last attempt wrote to stderr, when the worker kept them (--stderr-tail). */
  readonly stderr: string | undefined;
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
 * Runs `fn` on a channel whose unacked deliveries all go back to the queue when
 * it closes (AMQP requeues them in their original order), whatever `fn` did.
 */
export function withPeekChannel(broker: Broker, queue: string, fn: (channel: Channel) => Promise<void>): Promise<void> {
  return withChannel(broker, async (channel) => {
    try {
      await fn(channel);
    } catch (err) {
      throw (err as { code?: number })?.code !== undefined ? queueError(broker, queue, err) : err;
    }
  });
}

/** A dead message as a DeadTask, read from its x-taskq-* headers. */
export function deadTask(msg: GetMessage): DeadTask {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  return {
    messageId: asString(msg.properties.messageId),
    body: msg.content,
    reason: asString(headers[DEAD_HEADERS.reason]),
    exitCode: nullable(headers[DEAD_HEADERS.exitCode], headerNumber),
    signal: nullable(headers[DEAD_HEADERS.signal], asString),
    failedAt: asString(headers[DEAD_HEADERS.failedAt]),
    attempts: headerNumber(headers[DEAD_HEADERS.attempts]),
    host: asString(headers[DEAD_HEADERS.host]),
    originalQueue: asString(headers[DEAD_HEADERS.queue]),
    stderr: asString(headers[STDERR_HEADER]),
    headers,
  };
}

const asString = (value: unknown): string | undefined => (typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : undefined);

function nullable<T>(value: unknown, parse: (v: unknown) => T | undefined): T | null | undefined {
  return value === null ? null : parse(value);
}
