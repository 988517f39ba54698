import type { RunResult } from "./round.ts";
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
    perWorker: first.perWorker.map((_, i) => ({ tasks: m((r) => r.perWorker[i]?.tasks ?? 0), busyMs: m((r) => r.perWorker[i]?.busyMs ?? 0) })),
    missing: Math.max(...runs.map((r) => r.missing)),
    duplicates: Math.max(...runs.map((r) => r.duplicates)),
    publishRate: m((r) => r.publishRate),
    confirmMs: m((r) => r.confirmMs),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The `--json` document: every run, then the medians per prefetch. */
export function jsonReport(runs: RunResult[], medians: RunResult[], meta: Record<string, unknown>): string {
  const clean = (r: RunResult) => {
    const { missingIds: _m, duplicateIds: _d, timeline: _t, ...rest } = r;
    return JSON.parse(JSON.stringify(rest, (_k, v) => (typeof v === "number" ? round2(v) : v)));
  };
  return JSON.stringify({ ...meta, latencyMethod: "exact (sorted samples)", runs: runs.map(clean), medians: medians.map(clean) });
}

/** The table's rows, label and cell: shared by the text table and the HTML report. */
export function summaryRows(first: RunResult): Array<[string, (r: RunResult) => string]> {
  return [
    ["throughput (tasks/s)", (r) => r.throughput.toFixed(0)],
    ["makespan (ms)", (r) => r.makespanMs.toFixed(0)],
    ["ideal makespan (ms)", (r) => r.idealMs.toFixed(0)],
    ["efficiency", (r) => (r.efficiency === null ? "n/a (no work)" : r.efficiency.toFixed(3))],
    ["Jain fairness (busy)", (r) => r.jain.toFixed(3)],
    ["wait p50/p95/p99 (ms)", (r) => `${r.latencyMs.wait.p50.toFixed(1)}/${r.latencyMs.wait.p95.toFixed(1)}/${r.latencyMs.wait.p99.toFixed(1)}`],
    ["wait max (ms)", (r) => r.latencyMs.wait.max.toFixed(1)],
    ["total p50/p95/p99 (ms)", (r) => `${r.latencyMs.total.p50.toFixed(1)}/${r.latencyMs.total.p95.toFixed(1)}/${r.latencyMs.total.p99.toFixed(1)}`],
    ["total max (ms)", (r) => r.latencyMs.total.max.toFixed(1)],
    ["gap between tasks p50/p99/mean (ms)", (r) => `${r.gapMs.p50.toFixed(2)}/${r.gapMs.p99.toFixed(2)}/${r.gapMs.mean.toFixed(2)}`],
    ["publish rate (tasks/s)", (r) => r.publishRate.toFixed(0)],
    ["all confirmed after (ms)", (r) => r.confirmMs.toFixed(0)],
    ...first.perWorker.map((_, i): [string, (r: RunResult) => string] => [`worker ${i + 1}: tasks / busy ms`, (r) => `${r.perWorker[i]?.tasks ?? 0} / ${(r.perWorker[i]?.busyMs ?? 0).toFixed(0)}`]),
    ["missing / duplicated", (r) => `${r.missing} / ${r.duplicates}`],
  ];
}

/** The human table: one column per prefetch value (medians when --rounds > 1). */
export function tableReport(medians: RunResult[], meta: { rounds: number; seed: number }): string {
  const first = medians[0];
  if (!first) return "";
  const header = ["", ...medians.map((r) => `prefetch ${r.prefetch}`)];
  const body = summaryRows(first).map(([label, cell]) => [label, ...medians.map(cell)]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ");
  const title = `taskq bench: ${first.tasks} tasks, work ${first.work}, ${first.workers} workers, seed ${meta.seed}${meta.rounds > 1 ? `, median of ${meta.rounds} rounds` : ""}; latencies exact (sorted samples)`;
  return [title, line(header), ...body.map(line)].join("\n");
}
