import type { ConsumeMessage } from "amqplib";
import { Activity } from "./activity.ts";
import type { Copier } from "../failures/copier.ts";
import { AutoPrefetch } from "./auto-prefetch.ts";
import { Stopped } from "../broker/reconnector.ts";
import { DEFAULT_RETRY } from "../failures/retry-policy.ts";
import type { WorkSession } from "./session.ts";
import type { SessionSource } from "./session-source.ts";
import { COPY_STOP_GRACE_MS, type SettleContext } from "./settle.ts";
import { runTask } from "./run-task.ts";
import type { TaskSlot } from "./task-slot.ts";
import { HandBacks } from "./hand-backs.ts";
import { type Handler, taskFromMessage } from "../task.ts";
import { guardedListener } from "./listener.ts";
import {
  emptySummary,
  type StopReason,
  TRANSITIONS,
  type WorkerHandle,
  type WorkerOptions,
  type WorkerState,
  type WorkerSummary,
} from "./worker-state.ts";

/**
 * Consumes a queue with manual acks, as an explicit state machine (WorkerState). Each task is run
 * by run-task.ts and settled by settle.ts; unstarted ones are handed back by hand-backs.ts; sessions
 * come from a SessionSource (the reconnector behind it picks the broker); copies go out through a
 * Copier on a connection of their own.
 */
export class Worker implements WorkerHandle {
  state: WorkerState = "connecting";
  private readonly result = Promise.withResolvers<WorkerSummary>();
  readonly done = this.result.promise;
  /** Resolves once consuming (or stopped while connecting); rejects if the first session failed. */
  readonly started: Promise<void>;
  private session: WorkSession | undefined;
  private running = 0;
  private taken = 0;
  private readonly activity = new Activity();
  private readonly handBacks: HandBacks;
  private readonly outage = new AbortController(); // a stop ends connecting or an outage at once
  private readonly killed = new AbortController(); // a second signal: handlers killed
  private readonly giveUp = new AbortController(); // a stop waited long enough for refused copies
  private readonly ctx: SettleContext;
  private readonly auto: AutoPrefetch | undefined;
  private readonly slot: TaskSlot = { freed: (startedAt) => this.freed(startedAt), fail: (err) => this.fail(err) };

  constructor(
    private readonly sessions: SessionSource,
    private readonly copier: Pick<Copier, "publish" | "close">,
    private readonly options: WorkerOptions,
    private readonly handler: Handler,
  ) {
    const summary = emptySummary();
    this.auto = options.prefetch === "auto" ? new AutoPrefetch(options.concurrency) : undefined;
    this.ctx = {
      policy: options.retry ?? DEFAULT_RETRY,
      copier,
      summary,
      emit: this.emit,
      killed: this.killed.signal,
      giveUp: this.giveUp.signal,
    };
    this.handBacks = new HandBacks(this.ctx, options.queue, () => this.finishIfIdle());
    this.done.catch(() => {}); // a caller that only awaits `started` must not see an unhandled rejection
    this.started = this.begin();
  }

  /** The one place the state changes. */
  private to(next: WorkerState): void {
    if (!TRANSITIONS[this.state].includes(next)) throw new Error(`worker: no transition from ${this.state} to ${next}`);
    const from = this.state;
    this.state = next;
    this.emit({ type: "state", from, to: next });
  }

  private readonly emit = guardedListener(
    (event) => this.options.onEvent?.(event),
    (err) => this.fail(err),
  );

  private async begin(): Promise<void> {
    try {
      this.attach(await this.sessions.first(this.deliver, this.outage.signal));
    } catch (err) {
      if (err instanceof Stopped) return this.finishIfIdle();
      this.fail(err as Error);
      throw err;
    }
  }

  private attach(s: WorkSession): void {
    // Opened after all, though the worker ended meanwhile: close it, or its consumer holds tasks for ever.
    if (this.state === "stopped" || this.state === "failed") return void s.close();
    this.session = s;
    s.onTimeout = (why, taken) => this.handBacks.timeouts.timedOut(s, why, taken);
    this.auto?.limitReserve(s.reserveLimit ?? 1, s.steadyRefills ?? false);
    void s.lost.then((err) => this.onLost(s, err));
    if (this.state === "draining") {
      this.handBacks.stopConsuming(s); // stopped while it was being opened
      return;
    }
    const first = this.state === "connecting";
    this.to("consuming");
    if (!first) this.ctx.summary.reconnects++;
    // A new session starts without the reserve: give it the one the worker decided on.
    if (!first && this.auto && this.auto.holding > this.options.concurrency) s.setPrefetch(this.auto.holding);
    if (first)
      this.activity.exitWhenIdle(
        this.options.idleExitMs,
        () => this.running === 0 && (this.session?.pending.length ?? 0) === 0,
        () => this.stop("idle"),
      );
    this.emit(
      first
        ? {
            type: "ready",
            queue: this.options.queue,
            prefetch: this.options.prefetch,
            concurrency: this.options.concurrency,
          }
        : { type: "reconnected" },
    );
    this.pump(s);
  }

  private readonly deliver = (s: WorkSession, msg: ConsumeMessage | null): void => {
    if (msg === null) {
      this.stop("cancelled");
      return;
    }
    this.auto?.delivered(this.activity.touch());
    // handed back, came back, or taken back: not run here
    if (this.handBacks.settleUnrun(s, msg, this.state === "draining")) return;
    s.pending.push(msg);
    this.pump(s);
  };

  private pump(s: WorkSession): void {
    while (
      this.state === "consuming" &&
      s === this.session &&
      s.open &&
      this.running < this.options.concurrency &&
      s.pending.length > 0
    ) {
      this.run(s, s.pending.shift() as ConsumeMessage);
    }
  }

  private run(s: WorkSession, msg: ConsumeMessage): void {
    this.running++;
    this.taken++;
    if (this.options.maxTasks !== undefined && this.taken >= this.options.maxTasks) this.stop("max-tasks");
    runTask(
      this.ctx,
      this.handler,
      this.slot,
      s,
      msg,
      taskFromMessage(this.options.queue, msg),
      this.options.timeoutMs,
    );
  }

  /** A task's slot is free again. */
  private freed(startedAt: number): void {
    this.running--;
    const at = this.activity.touch();
    try {
      if (this.session) this.pump(this.session); // the slot is free for the current session's tasks (maybe a newer one)
      const current = this.session;
      const count = this.auto?.freed(
        at,
        at - startedAt,
        (current?.pending.length ?? 0) === 0 && this.running < this.options.concurrency,
      );
      // The worker's decision, for the session consuming now: the one that delivered this task may be gone.
      if (count !== undefined) {
        if (current?.open) current.setPrefetch(count);
        this.emit({ type: "prefetch", count, rttMs: this.auto?.rttMs ?? 0 });
      }
    } finally {
      this.finishIfIdle(); // a draining worker stops even when an event listener threw
    }
  }

  private async onLost(s: WorkSession, err: Error): Promise<void> {
    if (s !== this.session) return;
    const timedOut = this.handBacks.timeouts.lost(s, err); // the broker's consumer timeout: said as such, not as a loss
    s.pending.length = 0; // not started: the broker gives them to someone else
    this.session = undefined;
    if (this.state !== "consuming") return s.close().then(() => this.finishIfIdle());
    this.to("reconnecting");
    if (!timedOut) this.emit({ type: "disconnected", error: s.redact(err.message), running: this.running });
    try {
      this.attach(await this.sessions.next(s, this.deliver, this.outage.signal));
    } catch (e) {
      if (e instanceof Stopped) return this.finishIfIdle();
      this.fail(e as Error);
    }
  }

  stop(reason: StopReason = "signal"): void {
    if (this.state === "draining" || this.state === "stopped" || this.state === "failed") return;
    this.ctx.summary.reason = reason;
    this.emit({ type: "stopping", reason });
    this.to("draining");
    this.outage.abort();
    setTimeout(() => this.giveUp.abort(), COPY_STOP_GRACE_MS).unref();
    if (this.session) this.handBacks.stopConsuming(this.session);
    else this.finishIfIdle();
  }

  abort(): void {
    for (const signal of [this.killed, this.giveUp]) signal.abort();
    this.stop("signal");
  }

  handedBack(ms: number): Promise<void> {
    return this.handBacks.settled(ms);
  }

  private finishIfIdle(): void {
    if (this.state === "draining" && this.running === 0 && this.handBacks.size === 0) this.end("stopped");
  }

  private fail(err: Error): void {
    if (this.state !== "stopped" && this.state !== "failed") this.end("failed", err);
  }

  /** Into a final state: everything closed, then `done` settles. */
  private end(final: "stopped" | "failed", err?: Error): void {
    this.to(final);
    if (err) for (const signal of [this.killed, this.outage, this.giveUp]) signal.abort();
    this.activity.stop();
    void Promise.all([this.session?.close(), this.copier.close()]).then(() => {
      this.emit({ type: "closed" });
      if (err) this.result.reject(err);
      else this.result.resolve(this.ctx.summary);
    });
  }
}
