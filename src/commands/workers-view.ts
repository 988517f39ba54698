import type { WorkerReport } from "../core/worker/reports.ts";

/** What `status --workers` says when no worker reported. */
export const NO_WORKERS = "no worker reported on this queue (taskq work reports every 2s unless --report-every 0)";

/** A span for a column: `850ms`, `4.2s` under ten seconds, then `42s`, `5m12s`, `3h04m`, `2d03h`. */
export function spanText(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 1000) return `${Math.round(clamped)}ms`;
  if (clamped < 10_000) return `${(Math.floor(clamped / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(clamped / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/**
 * The workers as an aligned table at `at` (ms since the epoch): WORKER, QUEUE, STATE, DONE,
 * RETRIED, DEAD, UP, then under each worker one indented line per task it runs now.
 */
export function workersTable(reports: WorkerReport[], at: number): string[] {
  if (reports.length === 0) return [NO_WORKERS];
  const header = ["WORKER", "QUEUE", "STATE", "DONE", "RETRIED", "DEAD", "UP"];
  const body = reports.map((r) => [
    r.worker,
    r.queue,
    r.state,
    String(r.counts.done),
    String(r.counts.retried),
    String(r.counts.dead),
    spanText(at - r.startedAt),
  ]);
  const widths = header.map((_, col) => Math.max(...[header, ...body].map((row) => row[col]?.length ?? 0)));
  // Names and states to the left, numbers and spans to the right.
  const line = (row: string[]) =>
    row
      .map((cell, col) => (col < 3 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [line(header)];
  reports.forEach((r, i) => {
    out.push(line(body[i] ?? []));
    for (const t of r.tasks)
      out.push(`    task ${idText(t.id)}  attempt ${t.attempt}  running ${spanText(at - t.startedAt)}`);
  });
  return out;
}

/** A message id as one word: quoted when it holds spaces or control characters (any publisher may set one). */
const idText = (id: string | null): string =>
  id === null ? "(no id)" : /[\s\p{C}]/u.test(id) || id === "" ? JSON.stringify(id) : id;

const iso = (ms: number): string => new Date(ms).toISOString();

/** One JSON object per worker (docs/commands.md, "Worker reports"). */
export function workersJson(reports: WorkerReport[], at: number): Array<Record<string, unknown>> {
  return reports.map((r) => ({
    worker: r.worker,
    host: r.host,
    pid: r.pid,
    queue: r.queue,
    state: r.state,
    concurrency: r.concurrency,
    prefetch: r.prefetch,
    startedAt: iso(r.startedAt),
    upMs: Math.max(0, Math.round(at - r.startedAt)),
    reportedAt: iso(r.at),
    intervalMs: r.intervalMs,
    ...r.counts,
    tasks: r.tasks.map((t) => ({
      id: t.id,
      attempt: t.attempt,
      startedAt: iso(t.startedAt),
      runningMs: Math.max(0, Math.round(at - t.startedAt)),
    })),
  }));
}
