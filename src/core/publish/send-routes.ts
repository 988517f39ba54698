import type { Broker } from "../broker/connection.ts";
import { type QueueType, delayQueueName } from "../topology/names.ts";
import { declareWorkQueue } from "../topology/queues.ts";
import { HopQueues, type Renewal } from "../topology/hop-queues.ts";

/** Where one task is published: the work queue, or a delay queue with the task's expiry. */
export interface Route {
  queue: string;
  expiration?: string;
  /** A delay queue's renewal, pipelined with each task into it (HopQueues). */
  renew?: Renewal;
}

export interface RouteOptions {
  queue: string;
  queueType: QueueType;
  /** The send's delay: tasks without one of their own wait this long. */
  delayMs?: number;
  onLegacy: (queue: string) => void;
  /** The delay queues' expiry margin (HopQueueOptions). */
  marginMs?: number;
}

/**
 * Where a send's tasks go on one connection: the work queue, or for a delayed task its delay queue
 * — the retries' mechanism: a durable queue whose expired tasks RabbitMQ dead-letters to the work
 * queue (at-least-once when quorum). The work queue is declared first, each delay queue (as the type
 * the work queue was found to be) before its first task. Tasks may each have their own delay:
 * several delay queues.
 *
 * Invariant: no task counts as sent that may sit in a delay queue gone or expiring before it. Each
 * task into one carries its route's `renew` (HopQueues): the publisher declares the queue before it
 * when due, flags it mandatory, and sends it again after a fresh declare when it comes back or is
 * confirmed too late (names.ts, HOP_EXPIRY_MARGIN_MS). No fire-and-forget declare: the first
 * declare of each queue on a connection is awaited.
 */
export class SendRoutes {
  private readonly hops: HopQueues;
  /** Where tasks without a delay of their own go. */
  main: Route;

  private constructor(
    private readonly broker: Broker,
    private readonly options: RouteOptions,
    readonly queueType: QueueType,
  ) {
    this.hops = new HopQueues({
      onLegacy: options.onLegacy,
      ...(options.marginMs !== undefined ? { marginMs: options.marginMs } : {}),
    });
    this.main = { queue: options.queue };
  }

  static async open(broker: Broker, options: RouteOptions): Promise<SendRoutes> {
    const { type } = await declareWorkQueue(broker, options.queue, options.queueType);
    const routes = new SendRoutes(broker, options, type);
    if ((options.delayMs ?? 0) > 0) routes.main = await routes.delayed(options.delayMs ?? 0);
    return routes;
  }

  /** The route of a task delayed `delayMs` (0: the work queue), its delay queue declared. */
  async delayed(delayMs: number): Promise<Route> {
    if (delayMs <= 0) return { queue: this.options.queue };
    const queue = delayQueueName(this.options.queue, delayMs);
    const renew = await this.hops.ensure(this.broker, queue, this.options.queue, this.queueType, delayMs);
    return { queue, expiration: String(delayMs), ...(renew ? { renew } : {}) };
  }

  /** A task published again on this connection: its route (its delay queue declared: it may have expired). */
  async again(task: { queue: string; properties: { expiration?: string | number } }): Promise<Route> {
    if (task.queue === this.options.queue || task.properties.expiration === undefined) return { queue: task.queue };
    return this.delayed(Number(task.properties.expiration));
  }
}
