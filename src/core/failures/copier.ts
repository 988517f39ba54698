import { type Broker, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import { alarmOf } from "../publish/alarm.ts";
import { LazyBroker } from "../broker/lazy-broker.ts";
import { type Copy, fitCopy } from "./copy-table.ts";
import { headerTableLimit } from "./header-bytes.ts";
import { negotiatedFrameMax } from "../broker/amqplib.ts";
import { publishConfirmed } from "../publish/publish-confirmed.ts";
import { Publisher } from "../publish/publisher.ts";
import { HopQueues, type Renewal } from "../topology/hop-queues.ts";
import { type QueueType, hopLevelOf } from "../topology/names.ts";
import { declareQueues } from "../topology/queues.ts";
import type { Task } from "../task.ts";

export interface CopierOptions {
  queueType: QueueType;
  /** Told when the broker blocks the copies' connection (memory or disk alarm), and when it lifts it. */
  onBlocked?: (reason: string | null) => void;
  /** Told once per queue that exists with older arguments and is used as it is (see `declare`). */
  onLegacy?: (queue: string) => void;
  /** The retry queues' expiry margin (default HOP_EXPIRY_MARGIN_MS, names.ts). */
  expiryMarginMs?: number;
}

/**
 * Publishes copies of tasks (retry, dead, hand-back) on a connection of its
 * own, opened on first use and again after a loss: RabbitMQ blocks a
 * connection that publishes during a memory or disk alarm and then reads
 * nothing more from it, so the consuming connection must never publish, or
 * one failing task would stall every other task's ack (test/e2e/alarm.test.ts). Declares the retry and
 * dead queues before their first copy (again after a failure: they may have
 * been deleted).
 */
export class Copier {
  private readonly link: LazyBroker;
  private publisher: Promise<Publisher> | undefined;
  private readonly declared = new Set<string>();
  private readonly hops: HopQueues;
  private closed = false;

  constructor(
    connect: () => Promise<Broker>,
    private readonly options: CopierOptions,
  ) {
    this.link = new LazyBroker(connect, () => this.forget());
    this.hops = new HopQueues({
      ...(options.onLegacy ? { onLegacy: options.onLegacy } : {}),
      ...(options.expiryMarginMs !== undefined ? { marginMs: options.expiryMarginMs } : {}),
    });
  }

  /** Publishes `copy` (persistent) and resolves once the broker confirmed it; rejects with why not. */
  async publish(given: Copy, task: Pick<Task, "queue">): Promise<void> {
    if (this.closed) throw new Error("the copier is closed");
    const broker = await this.link.current();
    // A header frame past the connection's frame_max gets it closed (501) on every try: fitted to it
    // (test/unit/core/failures/header-frame.test.ts, test/e2e/copy-frame-max.test.ts).
    const copy = fitCopy(given, headerTableLimit(negotiatedFrameMax(broker.model)));
    if (copy.kind === "handBack" && copy.dropped !== given.dropped)
      throw new Error(`the copy's headers do not fit the connection's frame_max whole`); // the plain requeue keeps them
    try {
      // Bounded as every answer (a silent connection is failed, and the next copy reconnects), but
      // not while the broker blocks this connection: it reads nothing until the alarm lifts.
      const bound =
        alarmOf(broker.model).reason === null
          ? { ms: ANSWER_TIMEOUT_MS, what: `declaring '${copy.queue}'` }
          : undefined;
      const renew = await whileUp(broker, this.declare(broker, copy, task.queue), bound);
      await publishConfirmed(await this.currentPublisher(broker), copy.queue, copy.body, copy.properties, renew);
    } catch (err) {
      this.declared.delete(copy.queue);
      this.hops.forget(copy.queue);
      throw err;
    }
  }

  /**
   * Declares the retry or dead queue before its first copy. A retry queue can expire (x-expires):
   * the renewal returned (HopQueues) makes the publisher declare it again when due, and send a copy
   * again that comes back or is confirmed too late (an alarm held it), so a copy confirmed is in a
   * queue that outlives it (names.ts). One that exists with an older taskq's arguments is used as
   * it is, said once.
   */
  private async declare(broker: Broker, copy: Copy, target: string): Promise<Renewal | undefined> {
    const level = copy.kind === "retry" ? hopLevelOf(target, copy.queue) : undefined;
    if (level !== undefined) return this.hops.ensure(broker, copy.queue, target, this.options.queueType, level);
    if (copy.kind !== "dead" || this.declared.has(copy.queue)) return undefined;
    await declareQueues(broker, [copy.queue], this.options.queueType);
    this.declared.add(copy.queue);
    return undefined;
  }

  /** The connection was lost: its publisher and what was declared on it go with it. */
  private forget(): void {
    this.publisher = undefined;
    this.declared.clear();
    this.hops.forget();
  }

  /**
   * The publisher on `broker`; a failed one (nack, unroutable, refused) is closed once settled and a fresh one opened.
   */
  private currentPublisher(broker: Broker): Promise<Publisher> {
    const fresh = () =>
      Publisher.open(broker, { window: 64, ...(this.options.onBlocked ? { onBlocked: this.options.onBlocked } : {}) });
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
    await (await this.publisher?.catch(() => undefined))?.close();
    await this.link.close();
  }
}
