import type { ConsumeMessage } from "amqplib";
import { now, sleep } from "../util/clock.ts";
import { type Broker, type Reconnect, isLost, whileUp } from "./connection.ts";
import { Outage } from "./outage.ts";
import type { QueueType } from "./queue.ts";
import { DEFAULT_RETRY, type RetryPolicy, decide } from "./retry.ts";
import { Session } from "./session.ts";
import { type Handler, type Outcome, type Task, taskFromMessage } from "./task.ts";
import { redact } from "./url.ts";

export interface WorkerOptions {
  queue: string;
  queueType?: QueueType;
  /** Most unacked tasks the broker hands this worker (basic.qos). */
  prefetch: number;
  /** Most tasks run at once. */
  concurrency: number;
  /** Stop after this many tasks. */
  maxTasks?: number;
  /** Stop once no task arrived or ran for this long. */
  idleExitMs?: number;
  /** Retries of failed tasks (default: 5 attempts, from 1 s, doubling, capped at 5 min). */
  retry?: RetryPolicy;
  /** How to connect again after the connection is lost; without it a lost connection ends the worker. */
  reconnect?: Reconnect;
  onEvent?: (event: WorkerEvent) => void;
}

export type Settlement = "acked" | "retry" | "dead" | "requeued" | "lost";
export type StopReason = "signal" | "max-tasks" | "idle" | "cancelled";

export type WorkerEvent =
  | { type: "ready"; queue: string; prefetch: number; concurrency: number }
  | { type: "start"; task: Task; at: number }
  | { type: "finish"; task: Task; outcome: Outcome; settled: Settlement; startedAt: number; at: number; deadQueue?: string; retryInMs?: number; error?: string }
  | { type: "disconnected"; error: string; running: number }
  | { type: "reconnected" }
  | { type: "stopping"; reason: StopReason }
  | { type: "closed" };

export interface WorkerSummary {
  done: number;
  failed: number;
  retried: number;
  requeued: number;
  lost: number;
  reconnects: number;
  reason: StopReason;
}

export interface WorkerHandle {
  /** Stop taking tasks, finish and settle those running, then close. */
  stop(reason: StopReason): void;
  /** Abort running handlers at once; the broker redelivers what is unacked. */
  abort(): void;
  /**
   * Resolves once the tasks being handed back are (their copy confirmed, the original acked), or
   * after `ms`: call it before exiting on an abort, or each would be in the queue twice.
   */
  handedBack(ms: number): Promise<void>;
  readonly done: Promise<WorkerSummary>;
}

/** How long a task whose retry or dead-letter copy failed is held before it goes back to the queue. */
const REQUEUE_PAUSE_MS = 1000;

type Settled = { settled: Settlement; deadQueue?: string; retryInMs?: number; error?: string };

/**
 * Consumes `queue` with manual acks: a task is acked only after its handler
 * succeeded; a failed one is retried later or moved to `<queue>.dead`, each
 * confirmed before the original is acked. With `reconnect`, a lost connection
 * is opened again and consuming resumes; tasks of the lost one are left to
 * the broker to redeliver.
 */
export async function startWorker(broker: Broker, options: WorkerOptions, handler: Handler): Promise<WorkerHandle> {
  const emit = options.onEvent ?? (() => {});
  const policy = options.retry ?? DEFAULT_RETRY;
  const queueType = options.queueType ?? "classic";
  const aborter = new AbortController();
  const summary: WorkerSummary = { done: 0, failed: 0, retried: 0, requeued: 0, lost: 0, reconnects: 0, reason: "signal" };
  let session: Session;
  let running = 0;
  let started = 0;
  let stopping = false;
  let finished = false;
  let lastActivity = now();
  const outage = new Outage(now);
  let resolveDone!: (s: WorkerSummary) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<WorkerSummary>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });

  const requeue = (s: Session, msg: ConsumeMessage) => {
    s.acker.requeue(msg);
    summary.requeued++;
  };

  // Tasks being handed back (see handBack); finishing waits for them.
  const handingBack = new Set<Promise<void>>();
  const idle = () => running === 0 && handingBack.size === 0;

  /**
   * Gives back a task that was delivered but never started (a stop with prefetch above
   * concurrency) without spending one of its attempts: a plain requeue marks it redelivered
   * (classic) or raises x-delivery-count (quorum), which both count as an attempt. So: a
   * confirmed copy carrying the same attempt goes to the back of the queue, then the original is
   * acked; if the copy cannot be made, the plain requeue.
   */
  const handBack = (s: Session, msg: ConsumeMessage) => {
    if (aborter.signal.aborted) return; // exiting at once: left unacked, the broker requeues it
    const done: Promise<void> = s.retries
      .handBack(taskFromMessage(options.queue, msg))
      .then(
        () => {
          if (!s.open) return; // the broker redelivers the original too: a duplicate, never a loss
          s.acker.ack(msg, false);
          summary.requeued++;
        },
        () => {
          if (s.open) requeue(s, msg);
        },
      )
      .finally(() => {
        handingBack.delete(done);
        if (stopping && idle()) void finish();
      });
    handingBack.add(done);
  };

  const lostResult = (what: string): Settled => {
    summary.lost++;
    return { settled: "lost", error: `${what}, but the connection that delivered it is gone; the broker will redeliver it` };
  };

  const settle = async (s: Session, msg: ConsumeMessage, task: Task, outcome: Outcome): Promise<Settled> => {
    if (!s.open) return lostResult("finished");
    // Failed because it was stopped at once (a second signal killed the handler): not the task's
    // failure, so no retry or dead copy; left unacked for the broker to redeliver.
    if (!outcome.ok && aborter.signal.aborted) {
      summary.lost++;
      return { settled: "lost", error: "stopped at once; the broker will redeliver it" };
    }
    if (outcome.ok) {
      // Batch with other acks when more local work is queued; else ack at once.
      s.acker.ack(msg, s.pending.length > 0);
      summary.done++;
      return { settled: "acked" };
    }
    const decision = decide(outcome, task.attempt, policy);
    try {
      if (decision.action === "retry") {
        await s.retries.schedule(task, decision.levelMs, decision.delayMs, decision.nextAttempt, outcome.reason);
        if (!s.open) return lostResult("retry scheduled");
        s.acker.ack(msg, false);
        summary.retried++;
        return { settled: "retry", retryInMs: decision.delayMs };
      }
      const deadQueue = await s.deadLetters.move(task, outcome);
      if (!s.open) return lostResult("dead-lettered");
      s.acker.ack(msg, false);
      summary.failed++;
      return { settled: "dead", deadQueue, error: decision.why };
    } catch (err) {
      // Could not park it: give it back rather than lose it; after a pause, or a broker that keeps
      // refusing the copy (dead queue deleted, a nacking policy) makes a loop running the task non-stop.
      await sleep(REQUEUE_PAUSE_MS, aborter.signal);
      if (!s.open) return lostResult("failed");
      requeue(s, msg);
      return { settled: "requeued", error: redact(String((err as Error).message), s.broker.address) };
    }
  };

  const run = (s: Session, msg: ConsumeMessage) => {
    running++;
    started++;
    if (options.maxTasks !== undefined && started >= options.maxTasks) stop("max-tasks");
    const task = taskFromMessage(options.queue, msg);
    const startedAt = now();
    emit({ type: "start", task, at: startedAt });
    handler(task, aborter.signal)
      .catch((err: unknown): Outcome => ({ ok: false, reason: `handler error: ${(err as Error)?.message ?? err}` }))
      .then((outcome) => settle(s, msg, task, outcome).then((r) => emit({ type: "finish", task, outcome, startedAt, at: now(), ...r })))
      .finally(() => {
        running--;
        lastActivity = now();
        pump();
        if (stopping && idle()) void finish();
      });
  };

  const pump = () => {
    const s = session;
    while (!stopping && s.open && running < options.concurrency && s.pending.length > 0) run(s, s.pending.shift() as ConsumeMessage);
  };

  const begin = async (b: Broker): Promise<void> => {
    const s = await Session.open(b, options.queue, options.prefetch, queueType);
    session = s;
    void s.lost().then((err) => onLost(s, err));
    await s.consume(options.queue, (msg) => {
      if (msg === null) return stop("cancelled");
      lastActivity = now();
      s.acker.track(msg);
      if (stopping) return handBack(s, msg);
      s.pending.push(msg);
      pump();
    });
  };

  const onLost = async (s: Session, err: Error) => {
    if (finished || s !== session) return;
    // Not started: the broker gives them to someone else.
    s.pending.length = 0;
    await s.broker.close();
    if (stopping || !options.reconnect) {
      if (stopping && idle()) return void finish();
      if (!options.reconnect) return fail(err);
      return;
    }
    emit({ type: "disconnected", error: redact(err.message, s.broker.address), running });
    outage.lost();
    for (let failedSetups = 0; ; failedSetups++) {
      let fresh: Broker | undefined;
      try {
        const pause = outage.pauseMs(failedSetups);
        if (pause > 0) await sleep(pause);
        fresh = await options.reconnect(outage.since);
        if (finished) return void (await fresh.close());
        outage.settingUp();
        await whileUp(fresh, begin(fresh));
        // Stopped and finished while the session opened: nothing will close it but us.
        if (finished) return void (await session.close());
        summary.reconnects++;
        emit({ type: "reconnected" });
        if (stopping) stopConsuming();
        return;
      } catch (e) {
        if (!isLost(e)) return fail(e as Error);
        // Lost again while opening: once the new session exists, its own onLost takes over.
        if (session.broker === fresh) return;
        await fresh?.close();
      }
    }
  };

  const fail = (err: Error) => {
    if (finished) return;
    finished = true;
    clearInterval(idleTimer);
    aborter.abort();
    emit({ type: "closed" });
    rejectDone(err);
  };

  const finish = async () => {
    if (finished) return;
    finished = true;
    clearInterval(idleTimer);
    await session.close();
    emit({ type: "closed" });
    resolveDone(summary);
  };

  const stopConsuming = () => {
    const s = session;
    void s.cancel().then(() => {
      for (const msg of s.pending.splice(0)) handBack(s, msg);
      if (idle()) void finish();
    });
  };

  function stop(reason: StopReason) {
    if (stopping) return;
    stopping = true;
    summary.reason = reason;
    emit({ type: "stopping", reason });
    stopConsuming();
  }

  let idleTimer: ReturnType<typeof setInterval> | undefined;
  try {
    await begin(broker);
  } catch (err) {
    await broker.close();
    throw err;
  }
  const idleExitMs = options.idleExitMs;
  if (idleExitMs !== undefined) {
    idleTimer = setInterval(() => {
      if (running === 0 && session.pending.length === 0 && now() - lastActivity >= idleExitMs) stop("idle");
    }, Math.min(250, Math.max(10, idleExitMs / 4)));
  }
  emit({ type: "ready", queue: options.queue, prefetch: options.prefetch, concurrency: options.concurrency });

  return {
    stop,
    abort() {
      aborter.abort();
    },
    async handedBack(ms) {
      await Promise.race([Promise.all(handingBack), sleep(ms)]);
      // Acks after a cancel go through amqplib's frame queue, written on the next turns.
      for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    },
    done,
  };
}
