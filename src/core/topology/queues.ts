import type { Channel } from "amqplib";
import { TaskqError } from "../../errors.ts";
import type { Broker } from "../broker/connection.ts";
import { quiet, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import { redact } from "../broker/url.ts";

/** The dead-letter queue that goes with a work queue. */
export const deadQueueName = (queue: string): string => `${queue}.dead`;

/** Where a `send --delay` parks its tasks until they are due. */
export const delayQueueName = (queue: string, delayMs: number): string => `${queue}.delay.${delayMs}`;

/** classic: the tutorial's declaration (no arguments); quorum: replicated (x-queue-type). */
export type QueueType = "classic" | "quorum";

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

export interface QueueInfo {
  name: string;
  messageCount: number;
  consumerCount: number;
}

/**
 * Declares a work queue exactly as the RabbitMQ tutorial does: durable, no
 * arguments (unless quorum is asked for). Programs that declare `task_queue`
 * the tutorial's way can then share it with taskq without a 406.
 */
export async function declareQueue(broker: Broker, channel: Channel, queue: string, type: QueueType = "classic", extra: Record<string, unknown> = {}): Promise<QueueInfo> {
  try {
    const args = queueArguments(type, extra);
    const ok = await channel.assertQueue(queue, args ? { durable: true, arguments: args } : { durable: true });
    return { name: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount };
  } catch (err) {
    throw queueError(broker, queue, err, type);
  }
}

/** Declares on a throwaway channel, so a 406 cannot kill a channel in use. */
export async function declareQueues(broker: Broker, queues: string[], type: QueueType = "classic", extra: Record<string, unknown> = {}): Promise<QueueInfo[]> {
  const channel = quiet(await broker.model.createChannel());
  try {
    const infos: QueueInfo[] = [];
    for (const queue of queues) infos.push(await declareQueue(broker, channel, queue, type, extra));
    return infos;
  } finally {
    await channel.close().catch(() => {});
  }
}

/**
 * Passive declare on a throwaway channel (a passive declare of a missing queue
 * closes its channel): the queue's counts, or undefined when it does not exist.
 * Never creates anything.
 */
export async function checkQueue(broker: Broker, queue: string): Promise<QueueInfo | undefined> {
  const channel = quiet(await broker.model.createChannel());
  try {
    const ok = await channel.checkQueue(queue);
    return { name: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount };
  } catch (err) {
    if ((err as { code?: number })?.code === 404) return undefined;
    throw queueError(broker, queue, err);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Whether `queue` exists (checkQueue), bounded by the connection and by ANSWER_TIMEOUT_MS (a silent broker fails the connection). */
export async function queueStillThere(broker: Broker, queue: string): Promise<boolean> {
  return (await whileUp(broker, checkQueue(broker, queue), { ms: ANSWER_TIMEOUT_MS, what: `checking queue '${queue}'` })) !== undefined;
}

export async function deleteQueues(broker: Broker, queues: string[]): Promise<void> {
  const channel = quiet(await broker.model.createChannel());
  try {
    for (const queue of queues) await channel.deleteQueue(queue);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Turns a broker refusal about a queue into a message that says what to do. */
export function queueError(broker: Broker, queue: string, err: unknown, type: QueueType = "classic"): TaskqError {
  const text = redact(String((err as Error)?.message ?? err), broker.address);
  const code = (err as { code?: number })?.code;
  if (code === 406 || /PRECONDITION_FAILED/.test(text)) {
    const detail = /PRECONDITION_FAILED - ([^"]*)/.exec(text)?.[1] ?? text;
    return new TaskqError(
      `queue '${queue}' already exists with other settings (${detail.trim()}); taskq declares it ${type === "quorum" ? "as a durable quorum queue (--queue-type quorum)" : "durable with no arguments, as the tutorial does"}: use another --queue${type === "quorum" ? " or --queue-type classic" : ""}, or delete the old one with 'rabbitmqctl delete_queue ${queue}' if nothing needs it`,
    );
  }
  if (code === 404 || /NOT_FOUND/.test(text)) return new TaskqError(`queue '${queue}' does not exist`);
  if (code === 403 || /ACCESS_REFUSED/.test(text)) {
    if (/reserved prefix/.test(text)) return new TaskqError(`queue '${queue}': names starting with 'amq.' are reserved by the broker; use another --queue`);
    return new TaskqError(`the broker refused access to queue '${queue}' for user '${broker.address.user}'`);
  }
  return new TaskqError(`the broker refused queue '${queue}': ${text}`);
}
