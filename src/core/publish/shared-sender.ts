/**
 * The long-lived client's sender (library/client.ts): one connection and one confirm channel shared by every caller.
 * One idea: the invariant below (each task settles with its own answer, across losses, nacks and alarms) is kept by
 * the one loop in `send`; its parts (the session, the publisher, the reconnector) already have their own files.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TaskqError } from "../../errors.ts";
import { isLost } from "../broker/connect-error.ts";
import { type Broker, lostWithin } from "../broker/connection.ts";
import { LOSS_GRACE_MS } from "../broker/liveness.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { redact } from "../broker/url.ts";
import { Signal } from "../../util/signal.ts";
import type { QueueType } from "../topology/names.ts";
import { PublishError, maxMessageSizeOf } from "./publish-error.ts";
import type { Publisher, TaskProperties } from "./publisher.ts";
import type { SendEvent } from "./send-tasks.ts";
import { SenderSession } from "./sender-session.ts";

/** One task for a SharedSender: where it goes and what it is. */
export interface SharedTask {
  queue: string;
  queueType: QueueType;
  body: Buffer;
  /** Its message id among them: the same on every try. */
  properties: TaskProperties & { messageId: string };
  /** Reaches the queue this much later (through `<queue>.delay.<ms>`). */
  delayMs?: number;
}

export interface SharedSenderOptions {
  /** Finds the next connection after a loss, within its outage's deadline. */
  reconnector: Reconnector;
  /**
   * Longest a task waits unsent while the broker blocks publishing (memory or disk alarm); then it is rejected, never
   * sent.
   */
  blockedTimeoutMs: number;
  persistent: boolean;
  onEvent?: (event: SendEvent) => void;
}

/**
 * A task's try ended: confirmed; nacked (its own answer); its channel was found failed by another task and renewed
 * (not this task's doing); its channel closed while it waited (with the channel's refusal, if any); or the connection
 * is gone.
 */
type Verdict = "confirmed" | "nacked" | "renewed" | { channel: PublishError | undefined } | { connection: Error };

/** Tries of one task on channels of a live connection that closed while it waited, before it is rejected. */
const CHANNEL_TRIES = 5;

/**
 * Nacks of one task before it is rejected (a full queue with overflow reject-publish nacks every try; a quorum queue
 * between leaders passes on a later one), tried again after NACK_BACKOFF_MS, doubled each time.
 */
const NACK_TRIES = 5;
const NACK_BACKOFF_MS = 50;

/**
 * A long-lived sender: one connection and one confirming channel, shared by every caller, each
 * task awaiting its own confirm (concurrent sends go out together and their confirms come back
 * together: the broker confirms several at once, amqplib's writes are coalesced per turn).
 *
 * The invariant: a task `send` was given is confirmed (resolves), or rejected with its own reason —
 * never dropped, never rejected for another task's. A task unconfirmed when the connection is lost
 * (liveness.ts: closed, heartbeats missed, an answer past its bound) is sent again, same message id,
 * on the next connection the Reconnector finds (at least once); past the outage's deadline it is
 * rejected with the last error. A nack is the task's own answer: it goes again on the same channel,
 * up to NACK_TRIES, then is rejected; the connection and the other tasks are not touched. A task the
 * broker refused (unroutable, too large) is rejected; the others on a channel the broker closed over
 * it go again on a fresh one. While the broker blocks
 * publishing, a task waits unsent up to `blockedTimeoutMs`, then is rejected unsent; one written
 * before the block was known is rejected after as long, saying it may still arrive. `close()`
 * takes no more tasks and waits for those under way.
 */
export class SharedSender {
  private session: Promise<SenderSession> | undefined;
  /** The session whose connection is in use: one loss replaces it once, whoever sees it first. */
  private active: SenderSession | undefined;
  /** `active` once its connection is the one in use (no reconnect under way): taken without a wait. */
  private ready: SenderSession | undefined;
  /** Tasks given to `send` and not yet settled; `close` waits on `idle` until there are none. */
  private underway = 0;
  private readonly idle = new Signal();
  private closing = false;

  constructor(
    first: Broker,
    private readonly options: SharedSenderOptions,
  ) {
    this.session = Promise.resolve(this.newSession(first));
    this.ready = this.active;
  }

  /**
   * Resolves once the broker confirmed `task`; rejects (a TaskqError) if it refused it, or no broker took it in time.
   */
  send(task: SharedTask): Promise<void> {
    if (this.closing) return Promise.reject(new TaskqError("the client is closed: it sends nothing more"));
    this.underway++;
    return this.deliver(task);
  }

  /** Declares `queue` on the connection now (a refusal surfaces at once). */
  async declare(queue: string, queueType: QueueType): Promise<void> {
    const session = await this.current();
    await session.route(queue, queueType);
  }

  /** Takes no more tasks, waits for those under way (confirmed or rejected), then closes the connection. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.underway > 0) await this.idle.next();
    const session = await this.session?.catch(() => undefined);
    this.session = undefined;
    this.ready = undefined;
    await session?.close();
  }

  /**
   * Tries `task` until its verdict settles it (the invariant above), then counts it out of `underway`. A confirmed
   * task on the session in use costs this function's promise, `attempt`'s and its answer's (every request of a
   * service goes this way).
   */
  private async deliver(task: SharedTask): Promise<void> {
    try {
      for (let channelTries = 0, nacks = 0; ; ) {
        const session = this.ready && !this.ready.ended ? this.ready : await this.current();
        let verdict: Verdict;
        try {
          verdict = await this.attempt(session, task);
        } catch (err) {
          if (!isLost(err)) throw err;
          verdict = { connection: err as Error };
        }
        if (verdict === "confirmed") {
          if (!session.worked) this.options.reconnector.recovered();
          session.worked = true;
          return;
        }
        if (verdict === "renewed") continue;
        if (verdict === "nacked") {
          if (++nacks >= NACK_TRIES) throw nackedTooOften(task);
          await sleep(NACK_BACKOFF_MS * 2 ** (nacks - 1));
          continue;
        }
        if ("channel" in verdict) {
          if (++channelTries >= CHANNEL_TRIES)
            throw (
              verdict.channel ??
              new TaskqError(`task ${task.properties.messageId} not sent: its channel failed ${CHANNEL_TRIES} times`)
            );
          continue;
        }
        this.replace(session, verdict.connection);
      }
    } finally {
      if (--this.underway === 0) this.idle.wake();
    }
  }

  /**
   * One try of `task` on `session`: its verdict; throws why it is rejected. No wait of its own on
   * the connection: when it is lost (liveness.ts) amqplib closes the channel, which answers every
   * unconfirmed task with an error and ends every wait of the publisher (drain, window, alarm).
   */
  private async attempt(session: SenderSession, task: SharedTask): Promise<Verdict> {
    const route =
      session.routeNow(task.queue, task.delayMs) ?? (await session.route(task.queue, task.queueType, task.delayMs));
    const properties = route.expiration ? { ...task.properties, expiration: route.expiration } : task.properties;
    const publisher = session.publisherNow() ?? (await session.publisher());
    if (session.blockedBy !== null && !(await session.lifts(this.options.blockedTimeoutMs)))
      throw new TaskqError(
        `task ${task.properties.messageId} not sent: the broker blocks publishing (${session.blockedBy}) and did not lift it within ${this.options.blockedTimeoutMs / 1000}s`,
      );
    // One promise for the task's answer: its confirm, or the block's bound while it waits once written.
    let settle!: (error: PublishError | undefined) => void;
    let fail!: (err: TaskqError) => void;
    const answer = new Promise<PublishError | undefined>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    let answered = false;
    let unwatch: (() => void) | undefined;
    let wait: Promise<void> | undefined;
    try {
      wait = publisher.publish(
        route.queue,
        task.body,
        properties,
        (e) => {
          answered = true;
          unwatch?.();
          settle(e as PublishError | undefined);
        },
        route.renew,
      );
    } catch (err) {
      // The channel failed before this task (another task's refusal, its close): not this task's fault.
      if (await this.renewed(session, publisher, err)) return "renewed";
      return { connection: (await lostWithin(session.broker, 0)) ?? (err as Error) };
    }
    if (wait !== undefined) await wait;
    if (!answered) unwatch = session.watchWritten(task.properties.messageId, fail);
    const error = await answer;
    if (error === undefined) return "confirmed";
    if (error.kind === "nacked") return "nacked";
    if (error.kind === "refused") {
      session.forget(task.queue); // its queue is gone (deleted by hand): the next task declares it again
      throw error; // this task: unroutable, rejected
    }
    // The channel closed while this task waited; the broker may have closed it over one task (too large): that task
    // is rejected with the refusal, the others go again on a fresh channel.
    const cause = publisher.error?.kind === "refused" ? publisher.error : undefined;
    const max = cause && maxMessageSizeOf(cause);
    if (cause && max !== undefined && task.body.length > max) throw cause;
    if (!(await this.renewed(session, publisher, error))) {
      const lost = await lostWithin(session.broker, 0);
      if (lost) return { connection: lost };
    }
    return { channel: max === undefined ? cause : undefined };
  }

  /** The channel failed with `err`: true once a fresh one is opening on this live connection, false if it is lost. */
  private async renewed(session: SenderSession, publisher: Publisher, err: unknown): Promise<boolean> {
    if (!(err instanceof PublishError)) throw err;
    if (await lostWithin(session.broker, LOSS_GRACE_MS)) return false;
    await session.renewPublisher(publisher);
    return true;
  }

  /** The session in use, or a new connection's when the last one gave up. */
  private current(): Promise<SenderSession> {
    this.session ??= this.reconnect(undefined, new Error("no connection"));
    return this.session;
  }

  /** `session`'s connection is gone (or nacked): the next one, once for all the tasks that saw it. */
  private replace(session: SenderSession, why: Error): void {
    if (session !== this.active) return;
    this.active = undefined;
    this.ready = undefined;
    this.emit({
      type: "disconnected",
      error: redact(why.message, session.broker.address),
      unconfirmed: this.underway,
    });
    this.session = this.reconnect(session, why);
  }

  private reconnect(old: SenderSession | undefined, why: Error): Promise<SenderSession> {
    const reconnector = this.options.reconnector;
    const next = (async () => {
      await old?.close();
      const broker = old
        ? await reconnector.replace(old.broker, { worked: old.worked, why })
        : await reconnector.connect();
      this.emit({ type: "reconnected", resending: this.underway });
      const session = this.newSession(broker);
      this.ready = session;
      return session;
    })();
    // Gave up (past the outage's deadline): the tasks waiting are rejected with why; the next send starts anew.
    next.catch(() => {
      reconnector.recovered();
      if (this.session === next) this.session = undefined;
    });
    return next;
  }

  private newSession(broker: Broker): SenderSession {
    this.active = new SenderSession(
      broker,
      {
        onBlocked: (reason) => this.emit(reason === null ? { type: "unblocked" } : { type: "blocked", reason }),
        onQueueType: (queue, queueType) => this.emit({ type: "queue-type", queue, queueType }),
        onLegacy: (queue) => this.emit({ type: "legacy-queue", queue }),
      },
      this.options.persistent,
      this.options.blockedTimeoutMs,
    );
    return this.active;
  }

  private emit(event: SendEvent): void {
    this.options.onEvent?.(event);
  }
}

function nackedTooOften(task: SharedTask): TaskqError {
  return new TaskqError(
    `task ${task.properties.messageId} not sent: the broker refused it into queue '${task.queue}' ${NACK_TRIES} times (nack): the queue is likely full (max-length with overflow reject-publish), or a quorum queue has no leader`,
  );
}
