import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import { randomBytes } from "node:crypto";
import type { BrokerTarget } from "../core/broker/connection.ts";
import { type QueueType, deadQueueName } from "../core/topology/names.ts";
import { declareQueues } from "../core/topology/queues.ts";
import { connect } from "../core/broker/reconnector.ts";
import { sendTasks } from "../core/publish/send-tasks.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { now } from "../util/clock.ts";
import { NODE_KINDS, type RoundChaos } from "./chaos.ts";
import { FailoverClock } from "./failover.ts";
import { FaultInjector } from "./injector.ts";
import { removeQueues, senderFailover, workerUrls } from "./nodes.ts";
import { WorkerPool } from "./pool.ts";
import { type RunResult, runResult } from "./run-result.ts";
import { Tally } from "./tally.ts";
import { type TaskReport, WorkerProcess, benchWorkerArgs } from "./workers.ts";
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
  /** The round's queue is `<prefix>-<8 hex>` (default taskq-bench). */
  queuePrefix?: string;
  /** Faults to inject while the tasks are sent and done; absent, a plain measurement. */
  chaos?: RoundChaos;
}

/**
 * One bench round: W fresh `taskq work` processes on a fresh queue, then the
 * whole workload published with confirms; every task must be reported done by
 * exactly one worker. Under chaos, faults are injected from the first publish
 * until every task is done, and every task must still be reported done (at
 * least once: a task whose worker died after reporting it is done again).
 */
export async function runRound(config: RoundConfig): Promise<RunResult> {
  const queue = `${config.queuePrefix ?? "taskq-bench"}-${randomBytes(4).toString("hex")}`;
  const broker = await connect(config.target, { name: "taskq bench" });
  const tally = new Tally(config.durations.length, config.workers, config.timeline ?? false);
  let pool: WorkerPool | undefined;
  let injector: FaultInjector | undefined;
  const clock = config.chaos?.specs.some((s) => NODE_KINDS.includes(s.kind)) ? new FailoverClock() : undefined;
  try {
    await declareQueues(broker, [queue], config.queueType);
    pool = new WorkerPool(
      config.workers,
      workerSpawner(config, queue, tally, clock, () => injector?.frozenSince),
      config.signal,
    );
    await pool.ready();
    if (config.chaos) injector = injectFaults(config.chaos, pool);
    const sent = await sendTasks(broker, bodies(config.durations), {
      queue,
      queueType: config.queueType,
      onPublished: (index) => tally.published(index),
      ...(config.chaos ? senderFailover(config.target, config.chaos) : {}),
    });
    const firstPublish = tally.publishedAt[1] ?? 0;
    await waitForTasks(config, tally, pool, injector);
    await injector?.stop();
    const failure = injector?.failure;
    if (failure) throw failure;
    await pool.stop();
    return runResult(config, tally, {
      sent,
      firstPublish,
      faults: injector?.faults ?? [],
      failoverMs: clock?.figures() ?? null,
    });
  } finally {
    // Every node up again before the queue is deleted, and before a failed round's error is told.
    await injector?.stop().catch(() => {});
    pool?.kill();
    await removeQueues(broker, config.target, [queue, deadQueueName(queue)]);
    await broker.close();
  }
}

/**
 * Starts the worker for a slot: `taskq work --json` on `queue`, its reports counted in `tally`.
 * With a failover clock, each worker process gets its own number on it (a replaced one is
 * another worker); `frozenSince` tells when the node frozen now, if any, froze.
 */
function workerSpawner(
  config: RoundConfig,
  queue: string,
  tally: Tally,
  clock: FailoverClock | undefined,
  frozenSince: () => number | undefined,
): (slot: number) => WorkerProcess {
  const args = benchWorkerArgs(queue, config);
  // Under chaos each line is written before its ack: a SIGKILLed worker then never takes the line of a task it acked
  // with it.
  if (config.chaos) args.unshift("--report-before-ack"); // before workerArgs: they may end with `-- COMMAND`
  let processes = 0;
  return (slot) => {
    const env = { TASKQ_URL: workerUrls(config.target.urls, slot) };
    const report = (r: TaskReport) => tally.report(slot, r);
    if (!clock) return new WorkerProcess(args, report, env);
    const id = processes++;
    // A loss seen while a node is frozen happened at the freeze: the heartbeat only told of it later.
    return new WorkerProcess(args, clock.timing(id, report), env, () => clock.lostConnection(id, now(), frozenSince()));
  };
}

/** Starts injecting `chaos`'s faults into the pool's workers (and the nodes, if it has them). */
function injectFaults(chaos: RoundChaos, pool: WorkerPool): FaultInjector {
  const targets = {
    consumingSlots: () => pool.consumingSlots(),
    replaceWorker: (slot: number) => pool.replace(slot),
    ...(chaos.nodes ? { nodes: chaos.nodes } : {}),
  };
  return new FaultInjector(chaos.specs, targets, chaos.random);
}

/** The workload's task bodies, numbered from 1. */
function* bodies(durations: readonly number[]): Generator<Buffer> {
  for (let i = 1; i <= durations.length; i++) yield taskBody(i, durations[i - 1] ?? 0);
}

/**
 * Waits until every task is reported done, telling progress; throws on Ctrl+C or a worker or
 * fault that failed, and gives up (returns early) after `stallMs` without progress.
 */
async function waitForTasks(
  config: RoundConfig,
  tally: Tally,
  pool: WorkerPool,
  injector: FaultInjector | undefined,
): Promise<void> {
  const n = tally.tasks;
  // Wakes when the last task is reported, else every 100 ms (progress, stall, Ctrl+C): a parent
  // polling faster only takes CPU from the workers and the broker it is measuring.
  while (tally.done < n) {
    if (config.signal.aborted) throw new TaskqError("bench interrupted", ExitCode.interrupted);
    const failure = pool.failure ?? injector?.failure;
    if (failure) throw failure;
    // A node down, booting or frozen is no stall; the clock starts again when the last fault is over.
    if (!injector?.recovering && now() - Math.max(tally.lastProgress, injector?.quietSince ?? 0) > config.stallMs)
      break;
    config.onProgress?.(tally.done, n);
    await Promise.race([tally.finished, Bun.sleep(100)]);
  }
  config.onProgress?.(tally.done, n);
}
