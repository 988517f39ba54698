import type { DeadStatus, QueueRates, QueueStatus } from "../core/admin/queue-status.ts";
import type { WorkerReport } from "../core/topology/reports-exchange.ts";
import { durationText } from "../util/duration.ts";
import { preview } from "./dead-view.ts";
import { workersTable } from "./workers-view.ts";

/** One reading of a queue, and when it was taken (ms since the epoch); `workers` with --workers. */
export interface Sample {
  at: number;
  status: QueueStatus;
  workers?: WorkerReport[];
}

/** Characters of a dead task's reason shown before it is cut. */
const REASON_CHARS = 80;

/**
 * How fast the ready count changed between two samples, per second; undefined without two readings of a queue that
 * exists.
 */
export function readyRate(previous: Sample | undefined, current: Sample): number | undefined {
  if (previous === undefined || !previous.status.exists || !current.status.exists) return undefined;
  const seconds = (current.at - previous.at) / 1000;
  if (!(seconds > 0)) return undefined;
  return (current.status.ready - previous.status.ready) / seconds;
}

/** `+3.5/s`, `-12/s`, `0/s`; `?/s` before there are two samples. */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return "?/s";
  const text = Math.abs(perSecond) >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
  if (Number(text) === 0) return "0/s";
  return `${perSecond > 0 ? "+" : ""}${text}/s`;
}

/** An age in its two largest units: `42s`, `5m12s`, `3h04m`, `2d03h`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/**
 * Age of the oldest dead task at `at`, from its `x-taskq-failed-at`; undefined when that header is missing or not a
 * date.
 */
export function oldestAgeMs(dead: DeadStatus, at: number): number | undefined {
  const failedAt = dead.oldest?.failedAt;
  const time = failedAt === undefined ? Number.NaN : Date.parse(failedAt);
  return Number.isNaN(time) ? undefined : Math.max(0, at - time);
}

const reasonText = (reason: string): string => preview(Buffer.from(reason), REASON_CHARS);

/** The line for a work queue that does not exist (status never creates one). */
export const missingText = (queue: string): string =>
  `no such queue yet: '${queue}' (status never creates it; taskq send or work declares it)`;

export const retrying = (status: Extract<QueueStatus, { exists: true }>): number =>
  status.retries.reduce((sum, level) => sum + level.ready, 0);

/** The API's rates, per second: `in 3.2/s, out 3.0/s, acked 3.0/s`. */
export function ratesText(rates: QueueRates): string {
  const n = (x: number) => (x >= 100 ? String(Math.round(x)) : x.toFixed(1));
  return `in ${n(rates.publish)}/s, out ${n(rates.deliver)}/s, acked ${n(rates.ack)}/s`;
}

const tenths = (n: number): number => Math.round(n * 10) / 10;
const unackedText = (n: number | undefined): string => (n === undefined ? "?" : String(n));

function deadNote(dead: DeadStatus, at: number): string {
  if (!dead.exists) return "not created yet (no task has died)";
  if (dead.oldest === undefined) return "";
  const age = oldestAgeMs(dead, at);
  const reason = dead.oldest.reason === undefined ? "" : `: ${reasonText(dead.oldest.reason)}`;
  return `oldest ${age === undefined ? "of unknown age (no x-taskq-failed-at)" : `${formatAge(age)} ago`}${reason}`;
}

/**
 * The sample as an aligned table: the work queue, each retry and delay level
 * that exists, the dead queue; then the reasons among the dead tasks peeked at,
 * what the AMQP view misses (without the management API), and the workers
 * (--workers). IN PROGRESS is `?` without the API. `watching` adds how fast the ready count changes.
 */
export function statusTable(sample: Sample, watching = false, rate?: number): string[] {
  const { status } = sample;
  const workers = sample.workers === undefined ? [] : ["", ...workersTable(sample.workers, sample.at)];
  if (!status.exists) return [missingText(status.queue), ...workers];
  const workNote = [
    watching ? `ready ${formatRate(rate)}` : "",
    status.rates === undefined ? "" : ratesText(status.rates),
  ]
    .filter(Boolean)
    .join(", ");
  const rows: string[][] = [
    ["QUEUE", "READY", "IN PROGRESS", "CONSUMERS", ""],
    [status.queue, String(status.ready), unackedText(status.unacked), String(status.consumers), workNote],
    ...status.retries.map((level) => [
      level.queue,
      String(level.ready),
      unackedText(level.unacked),
      String(level.consumers),
      `retry after ${durationText(level.levelMs)}`,
    ]),
    ...status.delays.map((level) => [
      level.queue,
      String(level.ready),
      unackedText(level.unacked),
      String(level.consumers),
      `sent with --delay ${durationText(level.levelMs)}`,
    ]),
    [
      status.dead.queue,
      String(status.dead.ready),
      status.dead.exists ? unackedText(status.dead.unacked) : "",
      String(status.dead.consumers),
      deadNote(status.dead, sample.at),
    ],
  ];
  const widths = [0, 1, 2, 3].map((col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  const cell = (row: string[], col: number) =>
    col === 0 ? (row[0] ?? "").padEnd(widths[0] ?? 0) : (row[col] ?? "").padStart(widths[col] ?? 0);
  const table = rows.map((row) =>
    `${cell(row, 0)}  ${cell(row, 1)}  ${cell(row, 2)}  ${cell(row, 3)}  ${row[4] ?? ""}`.trimEnd(),
  );
  return [
    ...table,
    ...reasonLines(status.dead),
    ...(status.missing === undefined ? [] : [`note: ${status.missing}`]),
    ...workers,
  ];
}

/** The dead tasks peeked at, grouped by reason: a count column, then the reason. */
function reasonLines(dead: DeadStatus): string[] {
  if (dead.unsampled !== undefined) return [`dead tasks not sampled: ${dead.unsampled} ('taskq dead list' shows them)`];
  if (dead.reasons.length === 0) return [];
  const of = dead.sampled < dead.ready ? `the first ${dead.sampled} of ${dead.ready}` : `all ${dead.sampled}`;
  const width = String(dead.reasons[0]?.count ?? 0).length;
  return [
    `dead tasks by reason (${of}):`,
    ...dead.reasons.map(
      (r) =>
        `  ${String(r.count).padStart(width)}  ${r.reason === undefined ? "(no x-taskq-reason)" : reasonText(r.reason)}`,
    ),
  ];
}

/** With --workers: how many workers reported, and the tasks they run now. */
const workerWords = (sample: Sample): string[] =>
  sample.workers === undefined
    ? []
    : [`workers=${sample.workers.length}`, `running=${sample.workers.reduce((n, w) => n + w.tasks.length, 0)}`];

/** One line per sample for `--watch` into a pipe: `key=value` words after an ISO time. */
export function statusLine(sample: Sample, rate?: number): string {
  const { status } = sample;
  const time = new Date(sample.at).toISOString();
  if (!status.exists) return [time, missingText(status.queue), ...workerWords(sample)].join(" ");
  const words = [time, status.queue, `ready=${status.ready}`];
  if (status.unacked !== undefined) words.push(`unacked=${status.unacked}`);
  words.push(`consumers=${status.consumers}`, `rate=${formatRate(rate)}`);
  if (status.rates !== undefined) {
    const { publish, deliver, ack } = status.rates;
    words.push(`in=${tenths(publish)}/s`, `out=${tenths(deliver)}/s`, `acked=${tenths(ack)}/s`);
  }
  words.push(`retrying=${retrying(status)}`);
  for (const level of status.retries) words.push(`retry.${durationText(level.levelMs)}=${level.ready}`);
  for (const level of status.delays) words.push(`delay.${durationText(level.levelMs)}=${level.ready}`);
  words.push(`dead=${status.dead.ready}`);
  const age = oldestAgeMs(status.dead, sample.at);
  if (status.dead.oldest !== undefined) words.push(`oldest=${age === undefined ? "?" : formatAge(age)}`);
  if (status.dead.oldest?.reason !== undefined)
    words.push(`reason=${JSON.stringify(reasonText(status.dead.oldest.reason))}`);
  return [...words, ...workerWords(sample)].join(" ");
}

/** A whole screen for `--watch` on a terminal: a title, then the table. */
export function watchFrame(sample: Sample, intervalMs: number, rate: number | undefined): string[] {
  const clock = new Date(sample.at).toTimeString().slice(0, 8);
  return [
    `taskq status '${sample.status.queue}', every ${durationText(intervalMs)}, at ${clock} (Ctrl+C to stop)`,
    "",
    ...statusTable(sample, true, rate),
  ];
}
