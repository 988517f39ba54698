import { type Broker, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import type { QueueType } from "../topology/names.ts";
import { TaskqError } from "../../errors.ts";
import { Signal } from "../../util/signal.ts";
import { Publisher } from "./publisher.ts";
import { type Route, SendRoutes } from "./send-routes.ts";

export interface SessionEvents {
  /** The broker blocks publishing on this connection (a memory or disk alarm), or lifted it (null). */
  onBlocked: (reason: string | null) => void;
  /** The queue exists as the other type than asked: used as that type. */
  onQueueType: (queue: string, queueType: QueueType) => void;
  onLegacy: (queue: string) => void;
}

const OPENING = (what: string) => ({ ms: ANSWER_TIMEOUT_MS, what });

/**
 * What a long-lived sender keeps on one connection: one confirming channel, shared by every task
 * sent on it (a fresh one after the broker refused a task on it), and each queue's routes, declared
 * once per connection (SendRoutes: the work queue, delay queues with their renewals).
 */
export class SenderSession {
  /** A task was confirmed on this connection: whatever outage came before it is over. */
  worked = false;
  /** The broker's alarm while it blocks publishing on this connection, else null. */
  blockedBy: string | null = null;
  private readonly lifted = new Signal();
  private readonly routes = new Map<string, Promise<SendRoutes>>();
  /** Each queue's routes once declared: a task to it takes them without a wait. */
  private readonly declared = new Map<string, SendRoutes>();
  private channel: Promise<Publisher>;
  private open: Publisher | undefined;
  private gone = false;
  /**
   * Tasks written and awaiting their confirm: each rejected if the broker blocks publishing for longer than the bound.
   */
  private readonly written = new Set<(reason: string) => void>();
  private blockTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly broker: Broker,
    private readonly events: SessionEvents,
    private readonly persistent: boolean,
    private readonly blockedTimeoutMs: number,
  ) {
    void broker.lost.then(() => this.end());
    this.channel = this.openPublisher();
    this.channel.catch(() => {}); // its user sees the failure when it awaits it
  }

  /** Its connection is lost or closed: a task takes the sender's next session instead. */
  get ended(): boolean {
    return this.gone;
  }

  /** The confirming channel in use, if open. */
  publisherNow(): Publisher | undefined {
    return this.open;
  }

  /** The route of a task to a queue declared here, without a delay; else undefined (`route`). */
  routeNow(queue: string, delayMs?: number): Route | undefined {
    return delayMs ? undefined : this.declared.get(queue)?.main;
  }

  /** The confirming channel in use. */
  publisher(): Promise<Publisher> {
    return this.channel;
  }

  /** `failed` is done with (the broker refused a task on it, or closed it): the next tasks go on a fresh channel. */
  async renewPublisher(failed: Publisher): Promise<void> {
    const current = await this.channel.catch(() => undefined);
    if (current !== failed && current !== undefined) return; // renewed already
    this.open = undefined;
    this.channel = this.openPublisher();
    this.channel.catch(() => {});
    void failed.close();
  }

  /** Where a task to `queue` goes on this connection (declared on its first use here), delayed by `delayMs`. */
  async route(queue: string, queueType: QueueType, delayMs?: number): Promise<Route> {
    let opening = this.routes.get(queue);
    if (!opening) {
      opening = whileUp(
        this.broker,
        SendRoutes.open(this.broker, { queue, queueType, onLegacy: this.events.onLegacy }),
        OPENING(`declaring '${queue}'`),
      );
      this.routes.set(queue, opening);
      opening.then(
        (to) => {
          this.declared.set(queue, to);
          if (to.queueType !== queueType) this.events.onQueueType(queue, to.queueType);
        },
        () => this.routes.delete(queue), // a refused declare is tried again by the next task
      );
    }
    const to = await opening;
    if (!delayMs) return to.main;
    return whileUp(this.broker, to.delayed(delayMs), OPENING(`declaring the delay queue of '${queue}'`));
  }

  /** `queue` was found gone (a task to it came back): the next task to it declares it again. */
  forget(queue: string): void {
    this.routes.delete(queue);
    this.declared.delete(queue);
  }

  /**
   * Resolves true once the broker lifts its block or the connection ends (its publish then fails), false if neither
   * after `ms`.
   */
  async lifts(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
    try {
      while (this.blockedBy !== null && !this.gone)
        if (!(await Promise.race([this.lifted.next().then(() => true), late]))) break;
      return this.blockedBy === null || this.gone;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Watches a written task until its confirm: `fail` is told (a TaskqError) once the broker has blocked publishing for
   * longer than the bound while it waits. RabbitMQ tells a connection it is blocked only when it publishes, so the
   * first tasks of an alarm are already written when it is known. Returns the end of the watch (its confirm came).
   */
  watchWritten(messageId: string, fail: (err: TaskqError) => void): () => void {
    const stuck = (reason: string) =>
      fail(
        new TaskqError(
          `task ${messageId} not confirmed: the broker blocks publishing (${reason}) for longer than ${this.blockedTimeoutMs / 1000}s; written before the block was known, it may still reach the queue once the alarm clears (same id)`,
        ),
      );
    this.written.add(stuck);
    return () => this.written.delete(stuck);
  }

  async close(): Promise<void> {
    this.end();
    await (await this.channel.catch(() => undefined))?.close();
    await this.broker.close();
  }

  private blocked(reason: string | null): void {
    clearTimeout(this.blockTimer);
    this.blockTimer = undefined;
    if (reason === null) return;
    this.blockTimer = setTimeout(() => {
      for (const stuck of this.written) stuck(reason);
      this.written.clear();
      // Tasks behind them, unsent (the window full of those written, or the alarm known to the channel): rejected
      // unsent, never written later.
      this.open?.withdrawWaiting(
        (messageId) =>
          new TaskqError(
            `task ${messageId ?? ""} not sent: the broker blocks publishing (${reason}) and did not lift it within ${this.blockedTimeoutMs / 1000}s`,
          ),
      );
    }, this.blockedTimeoutMs);
    this.blockTimer.unref?.();
  }

  private end(): void {
    clearTimeout(this.blockTimer);
    this.gone = true;
    this.lifted.wake();
  }

  private openPublisher(): Promise<Publisher> {
    const opening = whileUp(
      this.broker,
      Publisher.open(this.broker, {
        window: 1024,
        maxWindow: 16_384,
        persistent: this.persistent,
        mandatoryEvery: 1,
        ownAnswers: true, // one task's nack or return fails that task alone, never the channel shared by the others
        onBlocked: (reason) => {
          if (reason === this.blockedBy) return;
          this.blockedBy = reason;
          this.blocked(reason);
          this.lifted.wake();
          this.events.onBlocked(reason);
        },
      }),
      OPENING("opening a publishing channel"),
    );
    opening.then(
      (publisher) => (this.open = publisher),
      () => {},
    );
    return opening;
  }
}
