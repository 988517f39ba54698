import type { Broker } from "../broker/connection.ts";
import type { Copy } from "./copy-table.ts";
import { publishConfirmed } from "../publish/publish-confirmed.ts";
import { Publisher } from "../publish/publisher.ts";
import { type QueueType, retryQueueArguments } from "../topology/names.ts";
import { QueueMismatch, checkQueue, declareQueues } from "../topology/queues.ts";
import type { Task } from "../task.ts";

export interface CopierOptions {
  queueType: QueueType;
  /** Told when the broker blocks the copies' connection (memory or disk alarm), and when it lifts it. */
  onBlocked?: (reason: string | null) => void;
  /** Told once per queue that exists with older arguments and is used as it is (see `declare`). */
  onLegacy?: (queue: string) => void;
}

/**
 * Publishes copies of tasks (retry, dead, hand-back) on a connection of its
 * own, opened on first use and again after a loss: RabbitMQ blocks a
 * connection that publishes during a memory or disk alarm and then reads
 * nothing more from it, so the consuming connection must never publish, or
 * one failing task would stall every other task's ack. Declares the retry and
 * dead queues before their first copy (again after a failure: they may have
 * been deleted).
 */
export class Copier {
  private broker: Promise<Broker> | undefined;
  private publisher: Promise<Publisher> | undefined;
  private readonly declared = new Set<string>();
  private closed = false;

  constructor(
    private readonly connect: () => Promise<Broker>,
    private readonly options: CopierOptions,
  ) {}

  /** Publishes `copy` (persistent) and resolves once the broker confirmed it; rejects with why not. */
  async publish(copy: Copy, task: Pick<Task, "queue">): Promise<void> {
    if (this.closed) throw new Error("the copier is closed");
    const broker = await this.currentBroker();
    try {
      if (copy.kind !== "handBack" && !this.declared.has(copy.queue)) {
        await this.declare(broker, copy, task.queue);
        this.declared.add(copy.queue);
      }
      await publishConfirmed(await this.currentPublisher(broker), copy.queue, copy.body, copy.properties);
    } catch (err) {
      this.declared.delete(copy.queue);
      throw err;
    }
  }

  /**
   * Declares the retry or dead queue. A quorum retry queue taskq declared before it used the
   * at-least-once strategy exists with fewer arguments and a declare with them is refused (406):
   * it is used as it is (its hop stays at-most-once) and the user is told once.
   */
  private async declare(broker: Broker, copy: Copy, target: string): Promise<void> {
    const type = this.options.queueType;
    const args = copy.kind === "retry" ? retryQueueArguments(target, type) : {};
    try {
      await declareQueues(broker, [copy.queue], type, args);
    } catch (err) {
      if (copy.kind !== "retry" || type !== "quorum" || !(err instanceof QueueMismatch) || !(await checkQueue(broker, copy.queue))) throw err;
      this.options.onLegacy?.(copy.queue);
    }
  }

  /** The copies' connection, opened if need be: for the worker's reports, which must not go on the consuming one either. */
  connection(): Promise<Broker> {
    return this.closed ? Promise.reject(new Error("the copier is closed")) : this.currentBroker();
  }

  private currentBroker(): Promise<Broker> {
    this.broker ??= this.connect().then(
      (broker) => {
        void broker.lost.then(() => this.forget(broker));
        return broker;
      },
      (err: unknown) => {
        this.broker = undefined;
        throw err;
      },
    );
    return this.broker;
  }

  private forget(broker: Broker): void {
    void broker.close();
    this.broker = undefined;
    this.publisher = undefined;
    this.declared.clear();
  }

  /** The publisher on `broker`; a failed one (nack, unroutable, refused) is closed once settled and a fresh one opened. */
  private currentPublisher(broker: Broker): Promise<Publisher> {
    const fresh = () => Publisher.open(broker, { window: 64, ...(this.options.onBlocked ? { onBlocked: this.options.onBlocked } : {}) });
    this.publisher = (this.publisher ?? fresh()).then(
      (p) => {
        if (!p.failed) return p;
        void p.settled().then(() => p.close()); // copies still in flight on it get their own answers first
        return fresh();
      },
      fresh, // the last one could not even be opened: try again
    );
    return this.publisher;
  }

  async close(): Promise<void> {
    this.closed = true;
    const broker = await this.broker?.catch(() => undefined);
    await (await this.publisher?.catch(() => undefined))?.close();
    await broker?.close();
  }
}
