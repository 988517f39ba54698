import type { Broker } from "../broker/connection.ts";
import { type QueueType, delayQueueName } from "../topology/names.ts";
import { declareWorkQueue } from "../topology/queues.ts";
import { HopQueues } from "../topology/hop-queues.ts";

/** Where one task is published: the work queue, or a delay queue with the task's expiry. */
export interface Route {
  queue: string;
  expiration?: string;
}

export interface RouteOptions {
  queue: string;
  queueType: QueueType;
  /** The send's delay: tasks without one of their own wait this long. */
  delayMs?: number;
  onLegacy: (queue: string) => void;
}

/**
 * Where a send's tasks go on one connection: the work queue, or for a delayed task its delay queue
 * — the retries' mechanism: a durable queue whose expired tasks RabbitMQ dead-letters to the work
 * queue (at-least-once when quorum). The work queue is declared first, each delay queue (as the type
 * the work queue was found to be) before its first task and again during a long send, before it
 * could expire (HOP_EXPIRY_MARGIN_MS). Tasks may each have their own delay: several delay queues.
 */
export class SendRoutes {
  private readonly hops: HopQueues;

  private constructor(
    private readonly broker: Broker,
    private readonly options: RouteOptions,
    readonly queueType: QueueType,
    /** Where tasks without a delay of their own go. */
    readonly main: Route,
  ) {
    this.hops = new HopQueues({ onLegacy: options.onLegacy });
  }

  static async open(broker: Broker, options: RouteOptions): Promise<SendRoutes> {
    const { type } = await declareWorkQueue(broker, options.queue, options.queueType);
    const delayMs = options.delayMs ?? 0;
    const main = delayMs > 0 ? { queue: delayQueueName(options.queue, delayMs), expiration: String(delayMs) } : { queue: options.queue };
    const routes = new SendRoutes(broker, options, type, main);
    if (delayMs > 0) await routes.delayed(delayMs);
    return routes;
  }

  /** Keeps the send's own delay queue declared (cheap: HopQueues declares only when due). */
  keep(): void {
    if (this.options.delayMs) void this.delayed(this.options.delayMs).catch(() => {});
  }

  /** The route of a task delayed `delayMs` (0: the work queue), its delay queue declared. */
  async delayed(delayMs: number): Promise<Route> {
    if (delayMs <= 0) return { queue: this.options.queue };
    const queue = delayQueueName(this.options.queue, delayMs);
    await this.hops.ensure(this.broker, queue, this.options.queue, this.queueType, delayMs);
    return { queue, expiration: String(delayMs) };
  }

  /** Before a task is published again on this connection: its delay queue declared (it may have expired). */
  async again(task: { queue: string; properties: { expiration?: string | number } }): Promise<void> {
    if (task.queue !== this.options.queue && task.properties.expiration !== undefined) await this.delayed(Number(task.properties.expiration));
  }
}
