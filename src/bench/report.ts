import type { RunResult } from "./run-result.ts";
import { median } from "./stats.ts";

/** The medians over the rounds of one prefetch value, in the same shape as a run. */
export function medianRun(runs: readonly RunResult[]): RunResult {
  const first = runs[0];
  if (!first) throw new Error("medianRun needs at least one run");
  if (runs.length === 1) return first;
  const m = (pick: (r: RunResult) => number) => median(runs.map(pick));
  const pct = (pick: (r: RunResult) => RunResult["latencyMs"]["wait"]) => ({
    p50: m((r) => pick(r).p50),
    p95: m((r) => pick(r).p95),
    p99: m((r) => pick(r).p99),
    max: m((r) => pick(r).max),
  });
  return {
    ...first,
    throughput: m((r) => r.throughput),
    makespanMs: m((r) => r.makespanMs),
    efficiency: first.efficiency === null ? null : m((r) => r.efficiency ?? 0),
    jain: m((r) => r.jain),
    latencyMs: { wait: pct((r) => r.latencyMs.wait), total: pct((r) => r.latencyMs.total) },
    gapMs: { ...pct((r) => r.gapMs), mean: m((r) => r.gapMs.mean) },
    perWorker: first.perWorker.map((_, i) => ({
      tasks: m((r) => r.perWorker[i]?.tasks ?? 0),
      busyMs: m((r) => r.perWorker[i]?.busyMs ?? 0),
    })),
    missing: Math.max(...runs.map((r) => r.missing)),
    duplicates: Math.max(...runs.map((r) => r.duplicates)),
    kills: { worker: m((r) => r.kills.worker), node: m((r) => r.kills.node) },
    freezes: m((r) => r.freezes),
    redeliveries: m((r) => r.redeliveries),
    resent: m((r) => r.resent),
    publishRate: m((r) => r.publishRate),
    confirmMs: m((r) => r.confirmMs),
    failoverMs: medianFailover(runs),
  };
}

/** p50: the median of the rounds' medians; max: the largest; counts summed. */
function medianFailover(runs: readonly RunResult[]): RunResult["failoverMs"] {
  const measured = runs.flatMap((r) => (r.failoverMs ? [r.failoverMs] : []));
  if (measured.length === 0) return null;
  const timed = measured.filter((f) => f.workers > 0);
  return {
    p50: timed.length > 0 ? median(timed.map((f) => f.p50)) : Number.NaN,
    max: timed.length > 0 ? Math.max(...timed.map((f) => f.max)) : Number.NaN,
    workers: measured.reduce((sum, f) => sum + f.workers, 0),
    unmeasured: measured.reduce((sum, f) => sum + f.unmeasured, 0),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Whether a round kept its promise: every task done exactly once; under chaos
 * at least once (a worker killed after its line and before its ack, a sender
 * re-publishing after a lost connection, both make a duplicate, never a loss).
 */
export const accountedFor = (r: RunResult): boolean => r.missing === 0 && (r.chaos !== null || r.duplicates === 0);

/** The `--json` document: every run, then the medians per prefetch. */
export function jsonReport(runs: RunResult[], medians: RunResult[], meta: Record<string, unknown>): string {
  const clean = (r: RunResult) => {
    const { missingIds: _m, duplicateIds: _d, timeline: _t, ...rest } = r;
    return JSON.parse(JSON.stringify(rest, (_k, v) => (typeof v === "number" ? round2(v) : v)));
  };
  return JSON.stringify({
    ...meta,
    latencyMethod: "exact (sorted samples)",
    runs: runs.map(clean),
    medians: medians.map(clean),
  });
}

/** The table's rows, label and cell: shared by the text table and the HTML report. */
export function summaryRows(first: RunResult): Array<[string, (r: RunResult) => string]> {
  return [
    ["throughput (tasks/s)", (r) => r.throughput.toFixed(0)],
    ["makespan (ms)", (r) => r.makespanMs.toFixed(0)],
    ["ideal makespan (ms)", (r) => r.idealMs.toFixed(0)],
    ["efficiency", (r) => (r.efficiency === null ? "n/a (no work)" : r.efficiency.toFixed(3))],
    ["Jain fairness (busy)", (r) => r.jain.toFixed(3)],
    [
      "wait p50/p95/p99 (ms)",
      (r) => `${r.latencyMs.wait.p50.toFixed(1)}/${r.latencyMs.wait.p95.toFixed(1)}/${r.latencyMs.wait.p99.toFixed(1)}`,
    ],
    ["wait max (ms)", (r) => r.latencyMs.wait.max.toFixed(1)],
    [
      "total p50/p95/p99 (ms)",
      (r) =>
        `${r.latencyMs.total.p50.toFixed(1)}/${r.latencyMs.total.p95.toFixed(1)}/${r.latencyMs.total.p99.toFixed(1)}`,
    ],
    ["total max (ms)", (r) => r.latencyMs.total.max.toFixed(1)],
    [
      "gap between tasks p50/p99/mean (ms)",
      (r) => `${r.gapMs.p50.toFixed(2)}/${r.gapMs.p99.toFixed(2)}/${r.gapMs.mean.toFixed(2)}`,
    ],
    ["publish rate (tasks/s)", (r) => r.publishRate.toFixed(0)],
    ["all confirmed after (ms)", (r) => r.confirmMs.toFixed(0)],
    ...first.perWorker.map((_, i): [string, (r: RunResult) => string] => [
      `worker ${i + 1}: tasks / busy ms`,
      (r) => `${r.perWorker[i]?.tasks ?? 0} / ${(r.perWorker[i]?.busyMs ?? 0).toFixed(0)}`,
    ]),
    ...(first.chaos === null ? [] : chaosRows),
    ...(first.chaos?.includes("freeze-node") ? freezeRows : []),
    ["missing / duplicated", (r) => `${r.missing} / ${r.duplicates}`],
  ];
}

const chaosRows: Array<[string, (r: RunResult) => string]> = [
  ["kills: workers / nodes", (r) => `${r.kills.worker} / ${r.kills.node}`],
  ["redeliveries (attempt > 1)", (r) => String(r.redeliveries)],
  ["re-sent after a sender reconnect", (r) => String(r.resent)],
  ["failover p50 / max (ms, workers)", (r) => failoverCell(r.failoverMs)],
];

const freezeRows: Array<[string, (r: RunResult) => string]> = [["node freezes (SIGSTOP)", (r) => String(r.freezes)]];

/**
 * "812 / 2950 (9)": from each cut-off worker's lost connection (a node killed) or from the freeze (a
 * node frozen: the heartbeat's detection included) to its first task done through another node.
 */
function failoverCell(f: RunResult["failoverMs"]): string {
  if (f === null) return "n/a";
  const unmeasured = f.unmeasured > 0 ? `, ${f.unmeasured} not timed` : "";
  if (f.workers === 0) return `none measured${unmeasured}`;
  return `${f.p50.toFixed(0)} / ${f.max.toFixed(0)} (${f.workers}${unmeasured})`;
}

/** The human table: one column per prefetch value (medians when --rounds > 1). */
export function tableReport(
  medians: RunResult[],
  meta: { rounds: number; seed: number; queueType: string; chaos: string | null; broker?: string },
): string {
  const first = medians[0];
  if (!first) return "";
  const header = ["", ...medians.map((r) => `prefetch ${r.prefetch}`)];
  const body = summaryRows(first).map(([label, cell]) => [label, ...medians.map(cell)]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ");
  const setup = `${meta.queueType === "classic" ? "" : `, ${meta.queueType} queue`}${meta.chaos === null ? "" : `, chaos ${meta.chaos}`}`;
  const title = `taskq bench: ${first.tasks} tasks, work ${first.work}, ${first.workers} workers${setup}, seed ${meta.seed}${meta.rounds > 1 ? `, median of ${meta.rounds} rounds` : ""}; latencies exact (sorted samples)`;
  return [`${title}${meta.broker ? `; ${meta.broker}` : ""}`, line(header), ...body.map(line)].join("\n");
}
