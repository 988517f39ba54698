import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import type { SendResult } from "../core/publish/send-tasks.ts";
import type { Failover } from "./failover.ts";
import type { Fault } from "./injector.ts";
import {
  type Percentiles,
  type Spread,
  idealMakespan,
  idleGaps,
  jain,
  percentiles,
  spread,
  unevenIds,
} from "./stats.ts";
import type { Tally, TimelineTask } from "./tally.ts";

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
  /**
   * Done reports of a redelivery (attempt > 1): the broker gave the task again after a worker or node died holding it.
   */
  redeliveries: number;
  /** Publishes the sender repeated after it lost its connection (unconfirmed then). */
  resent: number;
  /** Every kill and freeze, in order; `at`/`back` in ms since the first publish. */
  faults: Fault[];
  /**
   * After node kills or freezes: from each cut-off worker's lost connection (a freeze: the freeze) to its first task
   * done through another node.
   */
  failoverMs: Failover | null;
  publishRate: number;
  confirmMs: number;
  missingIds: number[];
  duplicateIds: number[];
  /** Every task done, in report order, when the round was asked to keep it (else empty). Kept out of `--json`. */
  timeline: TimelineTask[];
}

/** What a round's result repeats of how it was run. */
export interface RoundSetup {
  prefetch: Prefetch;
  workers: number;
  /** Milliseconds of work per task. */
  durations: readonly number[];
  work: string;
  chaos?: { text: string };
}

/** What happened during the round, besides the tally. */
export interface RoundEvents {
  sent: SendResult;
  /** When task 1 was published: every time in the result counts from there. */
  firstPublish: number;
  /** Absolute times, as the injector kept them. */
  faults: readonly Fault[];
  failoverMs: Failover | null;
}

/**
 * A finished round's figures. Makes the tally's timeline relative to the first publish, in place
 * (the tally is spent).
 */
export function runResult(setup: RoundSetup, tally: Tally, events: RoundEvents): RunResult {
  const { sent, firstPublish } = events;
  const makespanMs = tally.lastEnd - firstPublish;
  const idealMs = idealMakespan(setup.durations, setup.workers);
  for (const t of tally.timeline) {
    t.start -= firstPublish;
    t.end -= firstPublish;
  }
  const faults = events.faults.map((f) => ({
    ...f,
    at: f.at - firstPublish,
    ...(f.back !== undefined ? { back: f.back - firstPublish } : {}),
  }));
  const { missingIds, duplicateIds } = unevenIds(tally.seen);
  return {
    prefetch: setup.prefetch,
    workers: setup.workers,
    tasks: tally.tasks,
    work: setup.work,
    throughput: makespanMs > 0 ? (tally.done / makespanMs) * 1000 : 0,
    makespanMs,
    idealMs,
    efficiency: idealMs > 0 && makespanMs > 0 ? idealMs / makespanMs : null,
    jain: jain(tally.perWorker.map((w) => w.busyMs)),
    latencyMs: { wait: percentiles(tally.waits), total: percentiles(tally.totals) },
    gapMs: spread(idleGaps(tally.spans)),
    perWorker: tally.perWorker,
    missing: missingIds.length,
    duplicates: tally.duplicates,
    chaos: setup.chaos?.text ?? null,
    kills: {
      worker: faults.filter((f) => f.kind === "worker").length,
      node: faults.filter((f) => f.kind === "node").length,
    },
    freezes: faults.filter((f) => f.kind === "freeze").length,
    redeliveries: tally.redeliveries,
    resent: sent.resent,
    faults,
    failoverMs: events.failoverMs,
    publishRate: sent.ms > 0 ? (sent.sent / sent.ms) * 1000 : 0,
    confirmMs: sent.ms,
    missingIds,
    duplicateIds,
    timeline: tally.timeline,
  };
}
