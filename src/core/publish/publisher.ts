/**
 * The confirm channel a send publishes on: each task out, each answer (confirm, nack, return, close) taken once.
 * One idea: one channel's publish-to-answer life; its parts (window, returns, alarm, renewals, errors) have their own
 * files, and what stays here is the wiring of those parts to the channel's events, which reads best in one place.
 */
import type { ConfirmChannel, Message } from "amqplib";
import type { TaskProperties, Unconfirmed } from "./unconfirmed.ts";
import { TaskqError } from "../../errors.ts";
import { isChannelClosed } from "../broker/amqplib.ts";
import { Renewals } from "./renewals.ts";
import type { PublisherOptions } from "./publisher-options.ts";
import type { Renewal } from "../topology/hop-queues.ts";
import type { Broker } from "../broker/connection.ts";
import { Alarm } from "./alarm.ts";
import { ConfirmWindow } from "./confirm-window.ts";
import { drained } from "./drained.ts";
import { SentTasks } from "./sent-tasks.ts";
import { PublishError, channelRefusal, unroutable, unroutableSampled } from "./publish-error.ts";
import { Signal } from "../../util/signal.ts";
import { Returns, RouteCheck } from "./route-check.ts";
import { redact } from "../broker/url.ts";
import { settledWithin } from "../../util/clock.ts";
import { CLOSE_TIMEOUT_MS } from "../broker/liveness.ts";

export type { TaskProperties, Unconfirmed } from "./unconfirmed.ts";

/** A task waiting in publishLater, unsent; `withdrawn` once withdrawWaiting gave up on it. */
interface Waiter {
  messageId: string | undefined;
  withdrawn: TaskqError | undefined;
}

/**
 * Publishes with confirms in a bounded window: a task counts as sent once confirmed; any failure fails the publisher
 * (`flush()` says which).
 */
export class Publisher {
  published = 0;
  confirmed = 0;
  private inflight = 0;
  private seq = 0;
  private readonly sentTasks = new SentTasks<Unconfirmed>();
  /** Each publish's own outcome, for those who wait for it (publish-confirmed.ts). */
  private readonly outcomes = new Map<number, (error: TaskqError | undefined) => void>();
  private readonly returned = new Returns();
  private readonly alarm: Alarm;
  private failure: PublishError | undefined;
  private readonly signal = new Signal(); // woken at each answer, failure and close
  /** Tasks waiting in publishLater, unsent: each withdrawn by `withdrawWaiting` with its own error. */
  private readonly waiting = new Set<Waiter>();
  private readonly window: ConfirmWindow;
  private readonly persistent: boolean;
  private readonly routes: RouteCheck;
  private readonly renewals: Renewals;
  private draining: Promise<void> | undefined;
  private again = 0; // copies going again (placeAgain) not yet handed to the channel
  private readonly ownAnswers: boolean;

  private constructor(
    private readonly broker: Broker,
    private readonly channel: ConfirmChannel,
    options: PublisherOptions,
  ) {
    this.window = new ConfirmWindow(options.window ?? 1024, options.maxWindow);
    this.persistent = options.persistent ?? true;
    this.ownAnswers = options.ownAnswers ?? false;
    this.routes = new RouteCheck(options.mandatoryEvery ?? 1);
    this.renewals = new Renewals(channel);
    // A return comes before its publish's confirm, which says what it means (settle, placeAgain).
    channel.on("return", (msg: Message) => this.returned.add(msg));
    channel.on("error", (err: Error) => this.fail(channelRefusal(err, broker.address), "refused"));
    this.alarm = new Alarm(broker.model, channel, options.onBlocked);
    // Closed: every later publish throws at once, rather than trying a channel that is gone.
    channel.on("close", () =>
      this.fail(
        this.inflight > 0
          ? `the publishing channel closed with ${this.inflight} task(s) unconfirmed`
          : "the publishing channel closed",
        "closed",
      ),
    );
  }

  static async open(broker: Broker, options: PublisherOptions = {}): Promise<Publisher> {
    return new Publisher(broker, await broker.model.createConfirmChannel(), options);
  }

  /**
   * Sends one task: nothing when it went out at once, else a promise to await (window full, socket full). Confirmed
   * later: see `flush`.
   */
  publish(
    queue: string,
    body: Buffer,
    properties: TaskProperties = {},
    outcome?: (error: TaskqError | undefined) => void,
    renew?: Renewal,
  ): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.window.full(this.inflight) || this.alarm.blocked || (renew && this.renewals.mustWait(queue, renew)))
      return this.publishLater(queue, body, properties, outcome, renew);
    this.inflight++;
    this.published++;
    const seq = ++this.seq;
    this.sentTasks.add(seq, { queue, body, properties });
    this.window.published(body.length);
    if (outcome) this.outcomes.set(seq, outcome);
    // Every copy into a hop queue is flagged: a return says its queue was gone, and it goes again.
    const mandatory = renew !== undefined || this.routes.mandatory(queue, seq, outcome !== undefined);
    let ok: boolean;
    try {
      if (renew) this.renewals.before(seq, queue, renew); // a hop queue's declare, when due, just before its copy
      ok = this.channel.sendToQueue(
        queue,
        body,
        { ...properties, persistent: this.persistent, mandatory },
        this.onConfirm(seq, properties.messageId, mandatory),
      );
    } catch (err) {
      this.inflight--; // no answer comes for it: settled() must not wait for one
      this.outcomes.delete(seq);
      this.renewals.late(seq, false);
      // amqplib could not encode it (RangeError, TypeError): sending it again cannot mend that.
      const kind = err instanceof RangeError || err instanceof TypeError ? "refused" : "closed";
      this.fail(`could not publish: ${redact(String((err as Error).message), this.broker.address)}`, kind);
      throw this.failure;
    }
    return ok ? undefined : this.drained();
  }

  /** The socket's next 'drain', one wait shared by every publish that found it full (many callers: one listener). */
  private drained(): Promise<void> {
    this.draining ??= drained(this.channel).finally(() => (this.draining = undefined));
    return this.draining;
  }

  /** Tasks published and not confirmed (nacked ones too), oldest first: to publish again after a reconnect. */
  pendingTasks(): Unconfirmed[] {
    return this.sentTasks.values();
  }

  private async publishLater(
    queue: string,
    body: Buffer,
    properties: TaskProperties,
    outcome?: (error: TaskqError | undefined) => void,
    renew?: Renewal,
  ): Promise<void> {
    // Withdrawn by withdrawWaiting, which wakes `signal`: every wait below ends at the signal's next wake at the latest
    // (nothing raced against a promise of the task's own, which would gather a reaction per round while it waits).
    const waiter: Waiter = { messageId: properties.messageId, withdrawn: undefined };
    this.waiting.add(waiter);
    try {
      for (;;) {
        if (waiter.withdrawn) throw waiter.withdrawn;
        if (this.alarm.blocked && !this.failure) await Promise.race([this.alarm.blocked, this.signal.next()]);
        else if (renew && this.renewals.mustWait(queue, renew) && !this.failure)
          await Promise.race([this.renewals.busy, this.signal.next()]);
        else if (this.window.full(this.inflight) && !this.failure) await this.signal.next();
        else break;
      }
      if (waiter.withdrawn) throw waiter.withdrawn;
    } finally {
      this.waiting.delete(waiter);
    }
    await this.publish(queue, body, properties, outcome, renew);
  }

  /**
   * Withdraws every task waiting here unsent (the window full, a memory alarm): each `publish` promise rejects with
   * `make(its message id)`, and the task is never written. The long-lived client's bound on a blocked broker
   * (sender-session.ts).
   */
  withdrawWaiting(make: (messageId: string | undefined) => TaskqError): void {
    for (const waiter of this.waiting) waiter.withdrawn = make(waiter.messageId);
    this.waiting.clear();
    this.signal.wake();
  }

  private onConfirm(seq: number, messageId: string | undefined, mandatory: boolean) {
    return (err: unknown) => {
      this.inflight--;
      const outcome = this.outcomes.size > 0 ? this.outcomes.get(seq) : undefined;
      if (outcome) this.outcomes.delete(seq);
      const late = this.renewals.late(seq, !err, () => this.returned.take(this.sentTasks.get(seq)));
      // not `outcome?.(settle())`: that skips it
      const error = late ? undefined : this.settle(seq, messageId, mandatory, err);
      if (late) this.placeAgain(seq, late, outcome);
      else outcome?.(error);
      if (this.signal.waiting) this.signal.wake();
    };
  }

  /**
   * A copy into a hop queue returned (its queue was gone) or confirmed too late to be sure its
   * queue outlasts it (held back by an alarm: Renewals): it goes again after a fresh declare (at
   * least once: both may arrive). It stays among the tasks to send again until the new one is out.
   */
  private placeAgain(seq: number, renew: Renewal, outcome?: (error: TaskqError | undefined) => void): void {
    const task = this.sentTasks.get(seq);
    if (!task) {
      outcome?.(undefined);
      return;
    }
    this.window.confirmed(task.body.length);
    this.again++;
    const failed = (err: unknown) => outcome?.(err instanceof TaskqError ? err : new TaskqError(String(err)));
    new Promise<void>((resolve) => resolve(this.publish(task.queue, task.body, task.properties, outcome, renew)))
      .then(() => this.sentTasks.delete(seq), failed)
      .finally(() => {
        this.again--;
        this.signal.wake();
      });
  }

  /** One publish's answer: undefined when confirmed into a queue, else why not (and the publisher fails). */
  private settle(seq: number, messageId: string | undefined, mandatory: boolean, err: unknown): TaskqError | undefined {
    if (err && isChannelClosed(err)) {
      // Not a nack: the channel died first. The task stays in sentTasks, to be sent again.
      this.fail("the publishing channel closed with task(s) unconfirmed", "closed");
      return new PublishError(
        `the publishing channel closed before the broker confirmed task ${messageId ?? ""}`,
        "closed",
      );
    }
    if (err) {
      // Kept in sentTasks: a nack (a quorum queue between leaders, a full queue) may pass when sent again.
      const error = new PublishError(
        `the broker did not accept task ${messageId ?? ""} (nack): ${redact(String((err as Error)?.message ?? err), this.broker.address)}`,
        "nacked",
      );
      if (this.ownAnswers)
        this.forget(seq); // its sender decides whether it goes again
      else this.fail(error.message, "nacked");
      return error;
    }
    const task = this.sentTasks.get(seq);
    this.sentTasks.delete(seq);
    this.window.confirmed(task?.body.length ?? 0);
    if (task && this.returned.take(task)) {
      if (!this.ownAnswers)
        this.fail((this.routes.every > 1 ? unroutableSampled : unroutable)(messageId, task.queue), "refused");
      return new PublishError(unroutable(messageId, task.queue), "refused");
    }
    this.confirmed++;
    // Flagged and not returned: the queue was there, for this task and the unflagged ones before it.
    if (mandatory && task) this.routes.verified(task.queue, seq);
    return undefined;
  }

  /** `seq` is answered and not to be sent again by this publisher. */
  private forget(seq: number): void {
    const task = this.sentTasks.get(seq);
    this.sentTasks.delete(seq);
    this.window.confirmed(task?.body.length ?? 0);
  }

  /**
   * Waits until every task published so far is confirmed, and each queue sent tasks without the
   * mandatory flag that no confirmed flagged task covers still exists; throws the first failure.
   */
  async flush(): Promise<void> {
    while ((this.inflight > 0 || this.again > 0) && !this.failure) await this.signal.next();
    if (this.failure) throw this.failure;
    // covers what was published before it began
    const problem = await this.routes.checkOpen(this.broker, this.seq, () => this.failed);
    if (problem) this.fail(problem.message, problem.kind);
    if (this.failure) throw this.failure;
  }

  /**
   * Queues sent tasks without the flag that neither a confirmed flagged task nor a check has covered: to check before
   * another connection declares them again.
   */
  uncheckedQueues(): string[] {
    return this.routes.unverified().map(([queue]) => queue);
  }

  /** Why it failed (the first failure), or undefined while it works. */
  get error(): PublishError | undefined {
    return this.failure;
  }

  /** A publish failed (nack, unroutable, channel closed): every later one throws; open another. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Bounded: a broker that stopped answering cannot hold it past CLOSE_TIMEOUT_MS. */
  async close(): Promise<void> {
    await settledWithin(this.channel.close(), CLOSE_TIMEOUT_MS);
  }

  /** Resolves once every task published so far has its answer (a confirm, a nack, or the channel's close). */
  async settled(): Promise<void> {
    while (this.inflight > 0 || this.again > 0) await this.signal.next();
  }

  private fail(message: string, kind: PublishError["kind"]): void {
    this.failure ??= new PublishError(message, kind);
    this.signal.wake();
  }
}
