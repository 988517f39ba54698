import type { Channel, ConsumeMessage } from "amqplib";
import { TaskqError } from "../errors.ts";
import { type Broker, quiet } from "./connection.ts";
import { Acker } from "./acker.ts";
import { DeadLetters } from "./deadletter.ts";
import { Retries } from "./retries.ts";
import { DEFAULT_RETRY, type RetryPolicy, decide } from "./retry.ts";
import { Publisher } from "./publisher.ts";
import { declareQueue } from "./queue.ts";
import { type Handler, type Outcome, type Task, taskFromMessage } from "./task.ts";
import { redact } from "./url.ts";
import { now } from "../util/clock.ts";

export interface WorkerOptions {
  queue: string;
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
  onEvent?: (event: WorkerEvent) => void;
}

export type Settlement = "acked" | "retry" | "dead" | "requeued" | "lost";
export type StopReason = "signal" | "max-tasks" | "idle" | "cancelled";

export type WorkerEvent =
  | { type: "ready"; queue: string; prefetch: number; concurrency: number }
  | { type: "start"; task: Task; at: number }
  | { type: "finish"; task: Task; outcome: Outcome; settled: Settlement; startedAt: number; at: number; deadQueue?: string; retryInMs?: number; error?: string }
  | { type: "stopping"; reason: StopReason }
  | { type: "closed" };

export interface WorkerSummary {
  done: number;
  failed: number;
  retried: number;
  requeued: number;
  reason: StopReason;
}

export interface WorkerHandle {
  /** Stop taking tasks, finish and settle those running, then close. */
  stop(reason: StopReason): void;
  /** Abort running handlers at once; the broker redelivers what is unacked. */
  abort(): void;
  readonly done: Promise<WorkerSummary>;
}

/**
 * Consumes `queue` with manual acks: a task is acked only after its handler
 * succeeded; a failed task goes to `<queue>.dead` (confirmed) and is then acked.
 */
export async function startWorker(broker: Broker, options: WorkerOptions, handler: Handler): Promise<WorkerHandle> {
  const emit = options.onEvent ?? (() => {});
  const channel: Channel = quiet(await broker.model.createChannel());
  await declareQueue(broker, channel, options.queue);
  await channel.prefetch(options.prefetch);
  const publisher = await Publisher.open(broker, { window: 64 });
  const deadLetters = new DeadLetters(broker, publisher);
  const retries = new Retries(broker, publisher);
  const policy = options.retry ?? DEFAULT_RETRY;
  const aborter = new AbortController();
  const summary: WorkerSummary = { done: 0, failed: 0, retried: 0, requeued: 0, reason: "signal" };
  const pending: ConsumeMessage[] = [];
  let running = 0;
  let started = 0;
  let stopping = false;
  let channelOpen = true;
  let lastActivity = now();
  let resolveDone!: (s: WorkerSummary) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<WorkerSummary>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  channel.on("close", () => {
    channelOpen = false;
  });

  const acker = new Acker(channel, () => channelOpen);
  const requeue = (msg: ConsumeMessage) => {
    acker.requeue(msg);
    summary.requeued++;
  };

  const settle = async (msg: ConsumeMessage, task: Task, outcome: Outcome): Promise<{ settled: Settlement; deadQueue?: string; retryInMs?: number; error?: string }> => {
    if (!channelOpen) return { settled: "lost", error: "the channel that delivered it is closed; the broker will redeliver it" };
    if (outcome.ok) {
      // Batch with other acks when more local work is queued; else ack at once.
      acker.ack(msg, pending.length > 0);
      summary.done++;
      return { settled: "acked" };
    }
    const decision = decide(outcome, task.attempt, policy);
    try {
      if (decision.action === "retry") {
        await retries.schedule(task, decision.levelMs, decision.delayMs, decision.nextAttempt, outcome.reason);
        if (!channelOpen) return { settled: "lost", error: "channel closed after scheduling the retry; the broker will redeliver it" };
        acker.ack(msg, false);
        summary.retried++;
        return { settled: "retry", retryInMs: decision.delayMs };
      }
      const deadQueue = await deadLetters.move(task, outcome);
      if (!channelOpen) return { settled: "lost", deadQueue, error: "channel closed after dead-lettering; the broker will redeliver it" };
      acker.ack(msg, false);
      summary.failed++;
      return { settled: "dead", deadQueue, error: decision.why };
    } catch (err) {
      // Could not park it: give it back rather than lose it.
      requeue(msg);
      return { settled: "requeued", error: redact(String((err as Error).message), broker.address) };
    }
  };

  const run = (msg: ConsumeMessage) => {
    running++;
    started++;
    if (options.maxTasks !== undefined && started >= options.maxTasks) stop("max-tasks");
    const task = taskFromMessage(options.queue, msg);
    const startedAt = now();
    emit({ type: "start", task, at: startedAt });
    handler(task, aborter.signal)
      .catch((err: unknown): Outcome => ({ ok: false, reason: `handler error: ${(err as Error)?.message ?? err}` }))
      .then((outcome) => settle(msg, task, outcome).then((s) => emit({ type: "finish", task, outcome, startedAt, at: now(), ...s })))
      .finally(() => {
        running--;
        lastActivity = now();
        pump();
        if (stopping && running === 0) void finish();
      });
  };

  const pump = () => {
    while (!stopping && running < options.concurrency && pending.length > 0) run(pending.shift() as ConsumeMessage);
  };

  const { consumerTag } = await channel.consume(
    options.queue,
    (msg) => {
      if (msg === null) return stop("cancelled");
      lastActivity = now();
      if (stopping) return requeue(msg);
      acker.track(msg);
      pending.push(msg);
      pump();
    },
    { noAck: false },
  );
  emit({ type: "ready", queue: options.queue, prefetch: options.prefetch, concurrency: options.concurrency });

  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    clearInterval(idleTimer);
    acker.flush();
    await publisher.close();
    await channel.close().catch(() => {});
    emit({ type: "closed" });
    resolveDone(summary);
  };

  function stop(reason: StopReason) {
    if (stopping) return;
    stopping = true;
    summary.reason = reason;
    emit({ type: "stopping", reason });
    const cancelled = channelOpen ? channel.cancel(consumerTag).catch(() => {}) : Promise.resolve();
    void cancelled.then(() => {
      for (const msg of pending.splice(0)) requeue(msg);
      if (running === 0) void finish();
    });
  }

  const idleTimer = setInterval(() => {
    if (options.idleExitMs !== undefined && running === 0 && pending.length === 0 && now() - lastActivity >= options.idleExitMs) stop("idle");
  }, Math.min(250, Math.max(10, (options.idleExitMs ?? 250) / 4)));
  if (options.idleExitMs === undefined) clearInterval(idleTimer);

  void broker.lost.then((err) => {
    if (finished) return;
    finished = true;
    clearInterval(idleTimer);
    aborter.abort();
    emit({ type: "closed" });
    rejectDone(err);
  });

  return {
    stop,
    abort() {
      aborter.abort();
    },
    done,
  };
}
