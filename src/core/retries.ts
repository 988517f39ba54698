import type { Broker } from "./connection.ts";
import { type Publisher, copyProperties } from "./publisher.ts";
import { type QueueType, declareQueues } from "./queue.ts";
import { ATTEMPT_HEADER, DELIVERY_COUNT_HEADER, type Task } from "./task.ts";

/** Header saying why the last attempt failed. */
export const LAST_ERROR_HEADER = "x-taskq-last-error";

export const retryQueueName = (queue: string, levelMs: number): string => `${queue}.retry.${levelMs}`;

/**
 * Delayed retries without touching the work queue's declaration (it stays the
 * tutorial's: durable, no arguments): a copy of the task waits in
 * `<queue>.retry.<levelMs>`, a durable queue whose expired messages RabbitMQ
 * dead-letters back to `<queue>` through the default exchange. Each copy
 * expires after its own jittered delay (per-message TTL); since all copies in
 * one queue have delays within 20% of its level, expiry at the head of the
 * queue holds none back for long. Works on RabbitMQ 3.x and 4.x.
 */
export class Retries {
  private declared = new Set<string>();

  constructor(
    private readonly broker: Broker,
    private readonly publisher: () => Promise<Publisher>,
    private readonly queueType: QueueType = "classic",
  ) {}

  /** Publishes the retry copy and waits for its confirm; the caller then acks the original. */
  async schedule(task: Task, levelMs: number, delayMs: number, nextAttempt: number, reason: string): Promise<string> {
    const queue = retryQueueName(task.queue, levelMs);
    if (!this.declared.has(queue)) {
      await this.declare(queue, task.queue);
      this.declared.add(queue);
    }
    const properties = copyProperties(task.properties);
    const { "x-death": _death, [DELIVERY_COUNT_HEADER]: _count, ...headers } = task.headers;
    properties.headers = { ...headers, [ATTEMPT_HEADER]: nextAttempt, [LAST_ERROR_HEADER]: reason };
    properties.expiration = String(delayMs);
    try {
      await (await this.publisher()).publishConfirmed(queue, task.body, properties);
    } catch (err) {
      this.declared.delete(queue); // the queue may have been deleted: declare it again next time
      throw err;
    }
    return queue;
  }

  /**
   * Puts a task that never started back at the end of its queue with the attempt it had, so
   * being handed back costs it nothing; resolves once the broker confirmed the copy.
   */
  async handBack(task: Task): Promise<void> {
    const properties = copyProperties(task.properties);
    const { "x-death": _death, [DELIVERY_COUNT_HEADER]: _count, ...headers } = task.headers;
    properties.headers = { ...headers, [ATTEMPT_HEADER]: task.attempt };
    await (await this.publisher()).publishConfirmed(task.queue, task.body, properties);
  }

  private async declare(queue: string, target: string): Promise<void> {
    await declareQueues(this.broker, [queue], this.queueType, { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": target });
  }
}
