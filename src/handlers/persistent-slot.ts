/**
 * One concurrency slot of `work --persistent`: its handler process started, fed one task at a time, restarted.
 * One idea: a slot's process life (start, task, answer, end, restart) is one state machine; its parts (the process,
 * the protocol, the start) already have their own files.
 */
import type { Outcome, Task } from "../core/task.ts";
import { type Backoff, backoffDelay } from "../util/backoff.ts";
import { sleep } from "../util/clock.ts";
import { formatMs } from "../util/duration.ts";
import type { HandlerProcess, ProcessEvent } from "./persistent-process.ts";
import { MAX_ANSWER_BYTES, parseAnswer, quote, taskLine } from "./persistent-protocol.ts";
import { type StartSpec, StartFailure, startHandler } from "./persistent-start.ts";
import { TailBuffer } from "./stderr-tail.ts";

/** Waits before starting a handler again after one ended without being asked to. */
export const RESTART_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.2 };
/**
 * Failed starts in a row before the worker stops. A failed start: a process that did not start
 * (ended, wrong or no handshake), or that ended, or broke the protocol, having answered no task
 * (a --timeout kill aside: that is the task's slowness; and a crash, a non-zero exit or a signal,
 * while it ran a task: that is the task's failure, spending an attempt, so a poison task ends in
 * .dead and the worker goes on). Only an answer resets the count, so a
 * handler that exits right after its handshake stops the worker instead of restarting for ever.
 */
export const MAX_START_FAILURES = 5;

/** What a slot shares with its pool. */
export interface SlotContext {
  spec: StartSpec;
  timeoutMs?: number;
  killAfterMs: number;
  stderrTail: number;
  /** Tasks a process answers before it is replaced by a fresh one; 0: never. */
  maxTasksPerProcess: number;
  /** Told once when starts keep failing: the worker stops. */
  fatal: (why: string) => void;
  say: (line: string) => void;
}

/**
 * One concurrency slot: one handler process, one task at a time. The invariants: a task is
 * written only to a process past its handshake with no task in flight; every task gets exactly
 * one outcome, from the process's answer, or its end (exit, crash, timeout, a line that is not
 * the protocol: the process is then killed and started again, with backoff when it was not asked
 * to end); a slot with no process starts one at once, so the next task finds it ready.
 * A slot never has two live processes: a new one is started only once the last is gone.
 * A drain is bounded by --kill-after: `drain()` kills a process still before its handshake at
 * once and starts no other; `close()` then gives the process that has one --kill-after to exit.
 */
export class HandlerSlot {
  private proc: HandlerProcess | undefined;
  /** The process being started (a start, or a restart with its backoff); it becomes `proc`. */
  private starting: Promise<HandlerProcess> | undefined;
  /** The last process dropped: the next starts once it is gone. */
  private previous: HandlerProcess | undefined;
  /** Aborted by a drain: no process is started after it, and one being started is killed. */
  private readonly stopping = new AbortController();
  /** Ends not asked for, and failed starts, since the last answer: the backoff's attempt. */
  private failures = 0;
  /** Failed starts (MAX_START_FAILURES) since the last answer, and the last one's reason. */
  private failedStarts = 0;
  private lastWhy = "";
  private answered = 0;
  /** The seq of the last task written to `proc` (persistent-protocol.ts: its answer must echo it). */
  private seq = 0;

  constructor(
    readonly index: number,
    private readonly ctx: SlotContext,
  ) {}

  /** Starts its process (the first start: any failure is told at once, no retry). */
  async start(): Promise<void> {
    this.starting = startHandler(this.ctx.spec, this.stopping.signal).finally(() => {
      this.starting = undefined;
    });
    this.adopt(await this.starting);
  }

  async run(task: Task, signal: AbortSignal): Promise<Outcome> {
    let proc: HandlerProcess;
    try {
      // One that has exited is not given the task: once its end is told (idle), a fresh one is started.
      if (this.proc?.hasExited) await this.proc.gone;
      proc = this.proc && !this.proc.isGone ? this.proc : await (this.starting ?? this.restart());
    } catch (err) {
      // Not run: the task goes back as "not now", spending no attempt; the worker is stopping.
      return { ok: false, reason: `not run: ${(err as Error).message}`, exitCode: 75 };
    }
    return this.runOn(proc, task, signal);
  }

  /** Starts no process from now on; kills the one being started (a task waiting for it goes back as not now). */
  drain(): void {
    this.stopping.abort();
  }

  /** Drains, then ends its process: stdin closed, then SIGKILL after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.drain();
    await this.starting?.catch(() => {});
    const proc = this.proc;
    if (!proc) return;
    proc.endInput();
    const timer = setTimeout(() => proc.signal("SIGKILL"), graceMs);
    await proc.gone;
    clearTimeout(timer);
  }

  private adopt(proc: HandlerProcess): void {
    this.proc = proc;
    this.answered = 0;
    this.seq = 0;
    proc.listener = (event) => this.idle(proc, event);
  }

  /** Between tasks: any line is a protocol error, and an end needs a fresh process. */
  private idle(proc: HandlerProcess, event: ProcessEvent): void {
    if (this.proc !== proc || this.stopping.signal.aborted) return;
    if ("gone" in event) {
      this.ctx.say(`handler (slot ${this.index}) ended between tasks (${event.gone.text})`);
      return void this.dropped(proc, "failed", `handler ended (${event.gone.text})`);
    }
    const text = "line" in event ? event.line : event.tooLong;
    this.ctx.say(`handler (slot ${this.index}) wrote outside a task: ${JSON.stringify(text.slice(0, 200))}`);
    proc.signal("SIGKILL");
    this.dropped(proc, "failed", `handler wrote outside a task: ${JSON.stringify(text.slice(0, 200))}`);
  }

  /**
   * Its process is done with: a fresh one is started now, after a backoff unless it was `asked` to
   * end. One that `failed` having answered no task is a failed start: the MAX_START_FAILURES-th in
   * a row stops the worker (`why` is the reason told).
   */
  private dropped(proc: HandlerProcess, end: "asked" | "timeout" | "crashed" | "failed", why = ""): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    this.previous = proc;
    if (end !== "asked") this.failures++;
    if (end === "failed" && this.answered === 0) {
      this.failedStarts++;
      this.lastWhy = `${why} having answered no task`;
    }
    if (this.failedStarts >= MAX_START_FAILURES) this.ctx.fatal(this.fatalWhy());
    else if (!this.stopping.signal.aborted) void this.restart().catch(() => {});
  }

  private fatalWhy(): string {
    return `the handler failed to start ${MAX_START_FAILURES} times in a row: ${this.lastWhy}`;
  }

  private restart(): Promise<HandlerProcess> {
    if (this.starting) return this.starting;
    this.starting = (async () => {
      const stop = this.stopping.signal;
      while (this.failedStarts < MAX_START_FAILURES) {
        await this.previous?.gone;
        const wait = this.failures > 0 ? backoffDelay(this.failures, RESTART_BACKOFF) : 0;
        if (wait > 0 && !stop.aborted) {
          this.ctx.say(`handler (slot ${this.index}) starts again in ${formatMs(wait)}`);
          await sleep(wait, stop);
        }
        if (stop.aborted) throw new StartFailure("the worker is stopping");
        try {
          const proc = await startHandler(this.ctx.spec, stop);
          this.adopt(proc);
          return proc;
        } catch (err) {
          if (stop.aborted) throw err;
          this.lastWhy = (err as Error).message;
          this.failures++;
          this.failedStarts++;
          this.ctx.say(`handler (slot ${this.index}) did not start: ${this.lastWhy}`);
        }
      }
      const why = this.fatalWhy();
      this.ctx.fatal(why);
      throw new StartFailure(why);
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private runOn(proc: HandlerProcess, task: Task, signal: AbortSignal): Promise<Outcome> {
    const { timeoutMs, killAfterMs } = this.ctx;
    const tail = this.ctx.stderrTail > 0 ? new TailBuffer(this.ctx.stderrTail) : undefined;
    proc.tail = tail;
    const seq = ++this.seq;
    return new Promise<Outcome>((resolve) => {
      let timedOut = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const kill = () => proc.signal("SIGKILL");
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              proc.signal("SIGTERM");
              killTimer = setTimeout(kill, killAfterMs);
            }, timeoutMs);
      if (signal.aborted) kill();
      else signal.addEventListener("abort", kill, { once: true });
      const finish = (outcome: Outcome, end: "answered" | "failed" | "recycle") => {
        clearTimeout(timer);
        signal.removeEventListener("abort", kill);
        proc.tail = undefined;
        if (end === "answered") {
          if (this.answered >= this.ctx.maxTasksPerProcess && this.ctx.maxTasksPerProcess > 0) {
            proc.listener = () => {};
            proc.endInput(); // recycled: asked to end, so no backoff
            const grace = setTimeout(kill, killAfterMs);
            void proc.gone.then(() => clearTimeout(grace));
            this.dropped(proc, "asked");
          } else proc.listener = (event) => this.idle(proc, event);
        }
        resolve(outcome);
      };
      const failed = (reason: string) => {
        const stderr = tail?.text();
        return { ok: false as const, reason, exitCode: null, ...(stderr !== undefined ? { stderr } : {}) };
      };
      proc.listener = (event) => {
        if ("gone" in event) {
          clearTimeout(killTimer);
          // A crash while it ran a task it was sent is that task's failure (its attempts bound it, then
          // .dead), not a failed start: a task that kills every handler never stops the worker.
          const crashed = sent && !timedOut && event.gone.code !== 0;
          const end = timedOut ? "timeout" : crashed ? "crashed" : "failed";
          this.dropped(proc, end, `handler ended (${event.gone.text})`);
          // Exit 0 is a handler's goodbye, between tasks (docs/handlers.md): one that exits 0 with
          // the task unanswered ended before reading it (answered its last, then exited), so the
          // task goes back as not now, spending no attempt; as one whose stdin was already closed.
          if (!sent || (!timedOut && event.gone.code === 0))
            return finish(
              { ok: false, reason: `not run: handler ended (${event.gone.text}) before answering it`, exitCode: 75 },
              "failed",
            );
          const why = timedOut
            ? `timed out after ${(timeoutMs ?? 0) / 1000}s (${event.gone.text})`
            : `handler ended (${event.gone.text}) while running the task`;
          return finish({ ...failed(why), signal: event.gone.signal }, "failed");
        }
        if (timedOut) return; // being killed: what it writes now is not this task's answer
        const answer =
          "line" in event
            ? parseAnswer(event.line, seq)
            : {
                // Not parsed (the end of the line is not read): its start is quoted, a long reason's start with it.
                garbage: `handler wrote a line too long to be an answer (over ${MAX_ANSWER_BYTES / 1024} KB): ${quote(event.tooLong)}`,
              };
        if ("outcome" in answer) {
          this.answered++;
          this.failures = 0;
          this.failedStarts = 0;
          if (answer.outcome.ok) return finish(answer.outcome, "answered");
          // The stderr it wrote just before the answer may be a read behind: a moment for it.
          proc.listener = (later) => this.idle(proc, later);
          const failure = answer.outcome;
          return void setTimeout(() => {
            const stderr = tail?.text();
            finish({ ...failure, ...(stderr !== undefined ? { stderr } : {}) }, "answered");
          }, 5);
        }
        proc.listener = () => {};
        kill();
        this.dropped(proc, "failed", answer.garbage);
        finish(failed(answer.garbage), "failed");
      };
      const sent = proc.send(taskLine(task, seq));
      if (!sent) kill(); // its end comes as `gone`
    });
  }
}
