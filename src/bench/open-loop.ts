import { randomBytes } from "node:crypto";
import type { BrokerTarget } from "../core/broker/connection.ts";
import { connect } from "../core/broker/reconnector.ts";
import { sendTasks } from "../core/publish/send-tasks.ts";
import { type QueueType, deadQueueName } from "../core/topology/names.ts";
import { declareQueues } from "../core/topology/queues.ts";
import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { now, sleep } from "../util/clock.ts";
import { fromMono } from "../util/mono.ts";
import { DepthSampler } from "./depth-sampler.ts";
import { removeQueues, workerUrls } from "./nodes.ts";
import { WorkerPool } from "./pool.ts";
import { type RateFigures, rateFigures } from "./rate-figures.ts";
import { paced, tasksIn } from "./rate-schedule.ts";
import { Tally } from "./tally.ts";
import { WorkerProcess, benchWorkerArgs } from "./workers.ts";
import { taskBody } from "./workload.ts";

export interface RateRoundConfig {
  target: BrokerTarget;
  /** The round's queue is `<prefix>-<8 hex>` (default taskq-bench). */
  queuePrefix?: string;
  /** Broker flags for the spawned workers (TLS files, timeouts). */
  workerArgs: string[];
  workers: number;
  prefetch: Prefetch;
  /** Tasks per second. */
  rate: number;
  /** Sent first and not counted: the workers' and the broker's first moments. */
  warmupMs: number;
  /** How long the counted tasks are sent for. */
  durationMs: number;
  /** Milliseconds of work per task, cycled over the tasks. */
  durations: readonly number[];
  /** Give up when no task finished for this long after the last one was sent. */
  stallMs: number;
  queueType: QueueType;
  signal: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

const realClock = (signal: AbortSignal) => ({
  now,
  sleep: (ms: number) => sleep(ms, signal),
  turn: () => new Promise<void>((resolve) => setImmediate(resolve)),
});

/**
 * One rate of `bench --rate`: W fresh `taskq work` processes on a fresh queue, tasks published
 * with confirms at a fixed rate (paced: each no earlier than its intended time), the queue's
 * depth sampled meanwhile; every task must be reported done exactly once.
 */
export async function runRateRound(config: RateRoundConfig): Promise<RateFigures> {
  const queue = `${config.queuePrefix ?? "taskq-bench"}-${randomBytes(4).toString("hex")}`;
  const warmup = tasksIn(config.warmupMs, config.rate);
  const total = warmup + Math.max(1, tasksIn(config.durationMs, config.rate));
  const broker = await connect(config.target, { name: "taskq bench" });
  const tally = new Tally(total, config.workers, false);
  fromMono(0); // reads libc's clock now, not as the first report comes in
  const doneAt = new Float64Array(total + 1);
  let pool: WorkerPool | undefined;
  let depth: DepthSampler | undefined;
  let sampling: Awaited<ReturnType<typeof connect>> | undefined;
  let t0 = 0;
  try {
    await declareQueues(broker, [queue], config.queueType);
    const args = benchWorkerArgs(queue, config);
    const report = (slot: number) => (r: Parameters<Tally["report"]>[1]) => {
      const index = Number(r.id?.slice(r.id.lastIndexOf("-") + 1));
      // The worker's end carried on the machine-wide clock: its own now() may be ~1 ms off this one's.
      if (r.outcome === "done" && index >= 1 && index <= total && doneAt[index] === 0)
        doneAt[index] = r.mono === undefined ? r.end : fromMono(r.mono);
      tally.report(slot, r);
    };
    pool = new WorkerPool(
      config.workers,
      (slot) => new WorkerProcess(args, report(slot), { TASKQ_URL: workerUrls(config.target.urls, slot) }),
      config.signal,
    );
    await pool.ready();
    sampling = await connect(config.target, { name: "taskq bench depth" });
    depth = new DepthSampler(sampling, queue, () => t0);
    const running = pool;
    const stop = () =>
      config.signal.aborted ? new TaskqError("bench interrupted", ExitCode.interrupted) : running.failure;
    const bodies = paced(
      total,
      config.rate,
      (i) => taskBody(i, config.durations[(i - 1) % config.durations.length] ?? 0),
      realClock(config.signal),
      (t) => (t0 = t),
      stop,
    );
    const progress = setInterval(() => config.onProgress?.(tally.done, total), 100);
    try {
      await sendTasks(broker, bodies, {
        queue,
        queueType: config.queueType,
        onPublished: (index) => tally.published(index),
      });
      await waitForTasks(config, tally, running);
    } finally {
      clearInterval(progress);
    }
    await depth.stop();
    await pool.stop();
    return rateFigures({
      rate: config.rate,
      t0,
      warmup,
      publishedAt: tally.publishedAt,
      doneAt,
      spans: tally.spans,
      depth: depth.samples,
      duplicates: tally.duplicates,
    });
  } finally {
    await depth?.stop();
    pool?.kill();
    await removeQueues(broker, config.target, [queue, deadQueueName(queue)]);
    await sampling?.close();
    await broker.close();
  }
}

/**
 * Waits until every task is reported done; throws on Ctrl+C or a worker gone, gives up after `stallMs` without
 * progress.
 */
async function waitForTasks(config: RateRoundConfig, tally: Tally, pool: WorkerPool): Promise<void> {
  const sentAt = now();
  while (tally.done < tally.tasks) {
    if (config.signal.aborted) throw new TaskqError("bench interrupted", ExitCode.interrupted);
    if (pool.failure) throw pool.failure;
    if (now() - Math.max(tally.lastProgress, sentAt) > config.stallMs) break;
    await Promise.race([tally.finished, Bun.sleep(100)]);
  }
  config.onProgress?.(tally.done, tally.tasks);
}
