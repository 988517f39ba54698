import type { RateFigures } from "./rate-figures.ts";

/** What the rate report repeats of how the sweep was run. */
export interface RateMeta {
  workers: number;
  prefetch: number | "auto";
  work: string;
  seed: number;
  queueType: string;
  warmupMs: number;
  durationMs: number;
  /** As the broker names itself ("RabbitMQ 3.10.8"). */
  broker?: string;
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The table's columns, heading and cell: shared by the text table and the HTML report. */
export const RATE_COLUMNS: ReadonlyArray<[string, (r: RateFigures) => string]> = [
  ["target/s", (r) => String(r.target)],
  ["reached/s", (r) => r.reached.toFixed(0)],
  ["sent/s", (r) => r.sentRate.toFixed(0)],
  ["p50 ms", (r) => ms(r.latencyMs.p50)],
  ["p95 ms", (r) => ms(r.latencyMs.p95)],
  ["p99 ms", (r) => ms(r.latencyMs.p99)],
  ["p99.9 ms", (r) => ms(r.latencyMs.p999)],
  ["max ms", (r) => ms(r.latencyMs.max)],
  ["sender late p99 ms", (r) => ms(r.senderLateMs.p99)],
  ["max depth", (r) => String(r.maxDepth)],
  ["utilisation", (r) => `${(r.utilisation * 100).toFixed(1)}%`],
  ["missing/dup", (r) => `${r.missing}/${r.duplicates}`],
];

export const rateSetup = (m: RateMeta): string =>
  `work ${m.work}, ${m.workers} workers, prefetch ${m.prefetch}, ${m.queueType} queue, ${m.durationMs / 1000} s per rate after a ${m.warmupMs / 1000} s warm-up${m.broker ? `, ${m.broker}` : ""}`;

/** The human table: one row per rate. */
export function rateTable(results: readonly RateFigures[], meta: RateMeta): string {
  const header = RATE_COLUMNS.map(([h]) => h);
  const body = results.map((r) => RATE_COLUMNS.map(([, cell]) => cell(r)));
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padStart(widths[c] ?? 0)).join("  ");
  const title = `taskq bench --rate: ${rateSetup(meta)}, seed ${meta.seed}; latency from each task's intended send time to done (exact, sorted samples)`;
  return [title, line(header), ...body.map(line)].join("\n");
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The `--json` document: the setup, then one object per rate. */
export function rateJson(results: readonly RateFigures[], meta: RateMeta): string {
  const rates = results.map((r) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === "number" ? round2(v) : v))));
  return JSON.stringify({
    mode: "rate",
    ...meta,
    latencyMethod: "exact (sorted samples), from each task's intended send time",
    rates,
  });
}

/** Whether every counted and warm-up task was done exactly once. */
export const rateAccountedFor = (r: RateFigures): boolean => r.missing === 0 && r.duplicates === 0;
