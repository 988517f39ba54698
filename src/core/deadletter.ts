import { hostname } from "node:os";
import type { Broker } from "./connection.ts";
import { type Publisher, copyProperties } from "./publisher.ts";
import { type QueueType, deadQueueName, declareQueues } from "./queue.ts";
import { DELIVERY_COUNT_HEADER, type Outcome, type Task } from "./task.ts";

/** Headers a dead task carries to say why it died. */
export const DEAD_HEADERS = {
  reason: "x-taskq-reason",
  exitCode: "x-taskq-exit-code",
  signal: "x-taskq-signal",
  failedAt: "x-taskq-failed-at",
  host: "x-taskq-worker-host",
  queue: "x-taskq-original-queue",
  attempts: "x-taskq-attempts",
} as const;

/**
 * Moves a failed task to `<queue>.dead`: a durable copy with the same body and
 * properties plus headers saying why, confirmed by the broker. The caller acks
 * the original only after this resolves, so a crash in between duplicates the
 * task rather than losing it.
 */
export class DeadLetters {
  private declared = false;

  constructor(
    private readonly broker: Broker,
    private readonly publisher: () => Promise<Publisher>,
    private readonly queueType: QueueType = "classic",
  ) {}

  async move(task: Task, outcome: Extract<Outcome, { ok: false }>): Promise<string> {
    const dead = deadQueueName(task.queue);
    if (!this.declared) {
      await declareQueues(this.broker, [dead], this.queueType);
      this.declared = true;
    }
    const properties = copyProperties(task.properties);
    const { [DELIVERY_COUNT_HEADER]: _count, ...headers } = task.headers;
    properties.headers = {
      ...headers,
      [DEAD_HEADERS.reason]: outcome.reason,
      [DEAD_HEADERS.exitCode]: outcome.exitCode ?? null,
      [DEAD_HEADERS.signal]: outcome.signal ?? null,
      [DEAD_HEADERS.failedAt]: new Date().toISOString(),
      [DEAD_HEADERS.host]: hostname(),
      [DEAD_HEADERS.queue]: task.queue,
      [DEAD_HEADERS.attempts]: task.attempt,
    };
    try {
      await (await this.publisher()).publishConfirmed(dead, task.body, properties);
    } catch (err) {
      this.declared = false; // the queue may have been deleted: declare it again next time
      throw err;
    }
    return dead;
  }
}
