import { randomBytes } from "node:crypto";
import type { BrokerTarget } from "../core/connection.ts";
import { connect } from "../core/reconnector.ts";
import { deadQueueName, declareQueues, deleteQueues } from "../core/queue.ts";
import { sendTasks } from "../core/send.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { now } from "../util/clock.ts";
import { type Percentiles, type Spread, idealMakespan, idleGaps, jain, percentiles, spread } from "./stats.ts";
import { type TaskReport, WorkerProcess } from "./workers.ts";
import { taskBody } from "./workload.ts";

export interface RoundConfig {
  target: BrokerTarget;
  /** Broker flags for the spawned workers (URL, TLS files). */
  workerArgs: string[];
  workers: number;
  prefetch: number;
  /** Milliseconds of work per task; its length is the task count. */
  durations: readonly number[];
  work: string;
  /** Give up when no task finished for this long. */
  stallMs: number;
  signal: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Keep each task's worker, start and end (for the HTML report); off, `timeline` stays empty. */
  timeline?: boolean;
}

export interface RunResult {
  prefetch: number;
  workers: number;
  tasks: number;
  work: string;
  throughput: number;
  makespanMs: number;
  idealMs: number;
  /** ideal / makespan; null for zero work. */
  efficiency: number | null;
  jain: number;
  latencyMs: { wait: Percentiles; total: Percentiles };
  /** Each worker's idle time between one task's end and its next task's start (see `idleGaps`). */
  gapMs: Spread;
  perWorker: Array<{ tasks: number; busyMs: number }>;
  missing: number;
  duplicates: number;
  publishRate: number;
  confirmMs: number;
  missingIds: number[];
  duplicateIds: number[];
  /** Every task done, in report order, when the round was asked to keep it (else empty). Kept out of `--json`. */
  timeline: TimelineTask[];
}

/** One task on a worker: `worker` indexes `perWorker`; `start`/`end` are ms since the first publish. */
export interface TimelineTask {
  task: number;
  worker: number;
  start: number;
  end: number;
}

/**
 * One bench round: W fresh `taskq work` processes on a fresh queue, then the
 * whole workload published with confirms; every task must be reported done by
 * exactly one worker.
 */
export async function runRound(config: RoundConfig): Promise<RunResult> {
  const n = config.durations.length;
  const queue = `taskq-bench-${randomBytes(4).toString("hex")}`;
  const broker = await connect(config.target, { name: "taskq bench" });
  const publishedAt = new Float64Array(n + 1);
  const seen = new Uint8Array(n + 1);
  const waits: number[] = [];
  const totals: number[] = [];
  // Absolute times while the round runs; made relative to the first publish at the end.
  const timeline: TimelineTask[] = [];
  const perWorker = Array.from({ length: config.workers }, () => ({ tasks: 0, busyMs: 0 }));
  const spans: number[][] = Array.from({ length: config.workers }, () => []);
  let done = 0;
  let duplicates = 0;
  let lastEnd = 0;
  let lastProgress = now();
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const workers: WorkerProcess[] = [];
  try {
    await declareQueues(broker, [queue]);
    const onReport = (w: number) => (r: TaskReport) => {
      const index = Number(r.id?.slice(r.id.lastIndexOf("-") + 1));
      if (!(index >= 1 && index <= n) || r.outcome !== "done") return;
      const times = seen[index] ?? 0;
      seen[index] = times + 1;
      if (times > 0) {
        duplicates++;
        return;
      }
      if (++done === n) allDone();
      lastProgress = now();
      const slot = perWorker[w] as { tasks: number; busyMs: number };
      slot.tasks++;
      slot.busyMs += r.end - r.start;
      spans[w]?.push(r.start, r.end);
      waits.push(r.start - (publishedAt[index] as number));
      totals.push(r.end - (publishedAt[index] as number));
      if (r.end > lastEnd) lastEnd = r.end;
      if (config.timeline) timeline.push({ task: index, worker: w, start: r.start, end: r.end });
    };
    const args = ["--queue", queue, "--prefetch", String(config.prefetch), "--dot-ms", "1", ...config.workerArgs];
    for (let w = 0; w < config.workers; w++) workers.push(new WorkerProcess(args, onReport(w), { TASKQ_URL: config.target.urls.join(",") }));
    await Promise.all(workers.map((w) => w.ready(config.signal)));

    const bodies = function* () {
      for (let i = 1; i <= n; i++) yield taskBody(i, config.durations[i - 1] ?? 0);
    };
    const sent = await sendTasks(broker, bodies(), {
      queue,
      window: 1024,
      onPublished: (index, _id, at) => {
        publishedAt[index] = at;
      },
    });
    const firstPublish = publishedAt[1] ?? 0;
    // Wakes when the last task is reported, else every 100 ms (progress, stall, Ctrl+C): a parent
    // polling faster only takes CPU from the workers and the broker it is measuring.
    while (done < n) {
      if (config.signal.aborted) throw new TaskqError("bench interrupted", ExitCode.interrupted);
      if (now() - lastProgress > config.stallMs) break;
      config.onProgress?.(done, n);
      await Promise.race([finished, Bun.sleep(100)]);
    }
    config.onProgress?.(done, n);
    await Promise.all(workers.map((w) => w.stop()));
    const makespanMs = lastEnd - firstPublish;
    const idealMs = idealMakespan(config.durations, config.workers);
    for (const t of timeline) {
      t.start -= firstPublish;
      t.end -= firstPublish;
    }
    const missingIds: number[] = [];
    const duplicateIds: number[] = [];
    for (let i = 1; i <= n; i++) {
      if (seen[i] === 0) missingIds.push(i);
      else if ((seen[i] as number) > 1) duplicateIds.push(i);
    }
    return {
      prefetch: config.prefetch,
      workers: config.workers,
      tasks: n,
      work: config.work,
      throughput: makespanMs > 0 ? (done / makespanMs) * 1000 : 0,
      makespanMs,
      idealMs,
      efficiency: idealMs > 0 && makespanMs > 0 ? idealMs / makespanMs : null,
      jain: jain(perWorker.map((w) => w.busyMs)),
      latencyMs: { wait: percentiles(waits), total: percentiles(totals) },
      gapMs: spread(idleGaps(spans)),
      perWorker,
      missing: missingIds.length,
      duplicates,
      publishRate: sent.ms > 0 ? (sent.sent / sent.ms) * 1000 : 0,
      confirmMs: sent.ms,
      missingIds,
      duplicateIds,
      timeline,
    };
  } finally {
    for (const w of workers) w.kill();
    await deleteQueues(broker, [queue, deadQueueName(queue)]).catch(() => {});
    await broker.close();
  }
}
