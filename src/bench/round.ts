import type { Prefetch } from "../core/prefetch.ts";
import { randomBytes } from "node:crypto";
import type { BrokerTarget } from "../core/connection.ts";
import { type QueueType, deadQueueName, declareQueues } from "../core/queue.ts";
import { connect } from "../core/reconnector.ts";
import { sendTasks } from "../core/send.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { now } from "../util/clock.ts";
import { type ChaosSpec, NODE_KINDS } from "./chaos.ts";
import { type Failover, FailoverClock } from "./failover.ts";
import { type Fault, FaultInjector } from "./injector.ts";
import type { NodeControl } from "./node-control.ts";
import { removeQueues, senderFailover, workerUrls } from "./nodes.ts";
import { WorkerPool } from "./pool.ts";
import { type Percentiles, type Spread, idealMakespan, idleGaps, jain, percentiles, spread, unevenIds } from "./stats.ts";
import { type TaskReport, WorkerProcess } from "./workers.ts";
import { taskBody } from "./workload.ts";

export interface RoundConfig {
  target: BrokerTarget;
  /** Broker flags for the spawned workers (URL, TLS files). */
  workerArgs: string[];
  workers: number;
  prefetch: Prefetch;
  /** Milliseconds of work per task; its length is the task count. */
  durations: readonly number[];
  work: string;
  /** Give up when no task finished for this long. */
  stallMs: number;
  signal: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Keep each task's worker, start and end (for the HTML report); off, `timeline` stays empty. */
  timeline?: boolean;
  queueType: QueueType;
  /** Faults to inject while the tasks are sent and done; absent, a plain measurement. */
  chaos?: RoundChaos;
}

export interface RoundChaos {
  specs: ChaosSpec[];
  /** `--chaos` as given, for the report. */
  text: string;
  /** For kill-node and freeze-node. */
  nodes?: NodeControl;
  /** How long the sender keeps looking for a broker after losing one (it fails over to the other URLs). */
  reconnectTimeoutMs: number;
  /** Which worker or node dies next. */
  random: () => number;
  /** The sender's reconnect news, one line each. */
  say?: (line: string) => void;
}

export interface RunResult {
  prefetch: Prefetch;
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
  /** `--chaos` as given; null for a plain round. */
  chaos: string | null;
  kills: { worker: number; node: number };
  /** Nodes frozen (freeze-node), each for the spec's hold. */
  freezes: number;
  /** Done reports of a redelivery (attempt > 1): the broker gave the task again after a worker or node died holding it. */
  redeliveries: number;
  /** Publishes the sender repeated after it lost its connection (unconfirmed then). */
  resent: number;
  /** Every kill and freeze, in order; `at`/`back` in ms since the first publish. */
  faults: Fault[];
  /** After node kills or freezes: from each cut-off worker's lost connection (a freeze: the freeze) to its first task done through another node. */
  failoverMs: Failover | null;
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
 * exactly one worker. Under chaos, faults are injected from the first publish
 * until every task is done, and every task must still be reported done (at
 * least once: a task whose worker died after reporting it is done again).
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
  let redeliveries = 0;
  let lastEnd = 0;
  let lastProgress = now();
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  let pool: WorkerPool | undefined;
  let injector: FaultInjector | undefined;
  const clock = config.chaos?.specs.some((s) => NODE_KINDS.includes(s.kind)) ? new FailoverClock() : undefined;
  try {
    await declareQueues(broker, [queue], config.queueType);
    const onReport = (w: number) => (r: TaskReport) => {
      const index = Number(r.id?.slice(r.id.lastIndexOf("-") + 1));
      if (!(index >= 1 && index <= n) || r.outcome !== "done") return;
      if (r.attempt > 1) redeliveries++;
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
    const args = ["--queue", queue, "--queue-type", config.queueType, "--prefetch", String(config.prefetch), "--dot-ms", "1", ...config.workerArgs];
    // Under chaos each line is written before its ack: a SIGKILLed worker then never takes the line of a task it acked with it.
    if (config.chaos) args.push("--report-before-ack");
    // Each worker process gets its own number on the failover clock (a replaced one is another worker).
    let processes = 0;
    const spawn = (slot: number) => {
      const env = { TASKQ_URL: workerUrls(config.target.urls, slot) };
      if (!clock) return new WorkerProcess(args, onReport(slot), env);
      const id = processes++;
      // A loss seen while a node is frozen happened at the freeze: the heartbeat only told of it later.
      return new WorkerProcess(args, clock.timing(id, onReport(slot)), env, () => clock.lostConnection(id, now(), injector?.frozenSince));
    };
    pool = new WorkerPool(config.workers, spawn, config.signal);
    await pool.ready();

    const bodies = function* () {
      for (let i = 1; i <= n; i++) yield taskBody(i, config.durations[i - 1] ?? 0);
    };
    if (config.chaos) {
      const workers = pool;
      const targets = { consumingSlots: () => workers.consumingSlots(), replaceWorker: (slot: number) => workers.replace(slot), ...(config.chaos.nodes ? { nodes: config.chaos.nodes } : {}) };
      injector = new FaultInjector(config.chaos.specs, targets, config.chaos.random);
    }
    const sent = await sendTasks(broker, bodies(), {
      queue,
      queueType: config.queueType,
      onPublished: (index) => {
        publishedAt[index] = now();
      },
      ...(config.chaos ? senderFailover(config.target, config.chaos) : {}),
    });
    const firstPublish = publishedAt[1] ?? 0;
    // Wakes when the last task is reported, else every 100 ms (progress, stall, Ctrl+C): a parent
    // polling faster only takes CPU from the workers and the broker it is measuring.
    while (done < n) {
      if (config.signal.aborted) throw new TaskqError("bench interrupted", ExitCode.interrupted);
      const failure = pool.failure ?? injector?.failure;
      if (failure) throw failure;
      // A node down, booting or frozen is no stall; the clock starts again when the last fault is over.
      if (!injector?.recovering && now() - Math.max(lastProgress, injector?.quietSince ?? 0) > config.stallMs) break;
      config.onProgress?.(done, n);
      await Promise.race([finished, Bun.sleep(100)]);
    }
    config.onProgress?.(done, n);
    await injector?.stop();
    const failure = injector?.failure;
    if (failure) throw failure;
    await pool.stop();
    const makespanMs = lastEnd - firstPublish;
    const idealMs = idealMakespan(config.durations, config.workers);
    for (const t of timeline) {
      t.start -= firstPublish;
      t.end -= firstPublish;
    }
    const failoverMs = clock?.figures() ?? null;
    const faults = (injector?.faults ?? []).map((f) => ({ ...f, at: f.at - firstPublish, ...(f.back !== undefined ? { back: f.back - firstPublish } : {}) }));
    const { missingIds, duplicateIds } = unevenIds(seen);
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
      chaos: config.chaos?.text ?? null,
      kills: { worker: faults.filter((f) => f.kind === "worker").length, node: faults.filter((f) => f.kind === "node").length },
      freezes: faults.filter((f) => f.kind === "freeze").length,
      redeliveries,
      resent: sent.resent,
      faults,
      failoverMs,
      publishRate: sent.ms > 0 ? (sent.sent / sent.ms) * 1000 : 0,
      confirmMs: sent.ms,
      missingIds,
      duplicateIds,
      timeline,
    };
  } finally {
    // Every node up again before the queue is deleted, and before a failed round's error is told.
    await injector?.stop().catch(() => {});
    pool?.kill();
    await removeQueues(broker, config.target, [queue, deadQueueName(queue)]);
    await broker.close();
  }
}
