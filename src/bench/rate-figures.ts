import { percentile } from "./stats.ts";
import { intendedAt } from "./rate-schedule.ts";

/** p50 to max, with p99.9: the tail is what a rate sweep is about. */
export interface TailPercentiles {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** One sample of the queue's depth: ms since the start of the schedule, tasks ready. */
export interface DepthSample {
  atMs: number;
  ready: number;
}

/** What one rate's run recorded, absolute times (the same clock in every process: util/clock.ts `now`). */
export interface RateRecord {
  rate: number;
  /** Time 0 of the schedule. */
  t0: number;
  /** Tasks of the warm-up (the first ones): sent, done, not counted. */
  warmup: number;
  /** When each task was published, by task number (from 1; 0 = never). */
  publishedAt: Float64Array;
  /** When each task was first reported done, by task number (0 = never). */
  doneAt: Float64Array;
  /** Per worker: start, end, start, end... of each task it did. */
  spans: readonly (readonly number[])[];
  depth: readonly DepthSample[];
  duplicates: number;
}

export interface RateFigures {
  /** The rate asked for, tasks/s. */
  target: number;
  /** Tasks counted (after the warm-up). */
  tasks: number;
  /** Counted tasks done per second, from the first end to the last: the target, or what the fleet could do. */
  reached: number;
  /** Counted tasks published per second (the sender's own rate). */
  sentRate: number;
  /** Intended send time → done, over the counted tasks. */
  latencyMs: TailPercentiles;
  /** Intended send time → publish: the sender's own lateness (already inside latencyMs). */
  senderLateMs: { p50: number; p99: number; max: number };
  maxDepth: number;
  depth: DepthSample[];
  /** The workers' busy time / (workers × the counted window). */
  utilisation: number;
  /** Tasks never reported done, warm-up included. */
  missing: number;
  duplicates: number;
}

export function tailPercentiles(values: readonly number[]): TailPercentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/** Busy time of flat [start, end, ...] spans inside [from, to]. */
export function busyWithin(spans: readonly number[], from: number, to: number): number {
  let busy = 0;
  for (let i = 0; i + 1 < spans.length; i += 2)
    busy += Math.max(0, Math.min(to, spans[i + 1] as number) - Math.max(from, spans[i] as number));
  return busy;
}

/** One rate's figures from its record: only tasks after the warm-up count. */
export function rateFigures(r: RateRecord): RateFigures {
  const n = r.publishedAt.length - 1;
  const first = r.warmup + 1;
  const latencies: number[] = [];
  const late: number[] = [];
  let missing = 0;
  let lastEnd = 0;
  let firstEnd = Number.POSITIVE_INFINITY;
  let firstSent = Number.POSITIVE_INFINITY;
  let lastSent = 0;
  for (let i = 1; i <= n; i++) {
    const intended = r.t0 + intendedAt(i, r.rate);
    const sent = r.publishedAt[i] as number;
    const done = r.doneAt[i] as number;
    if (done === 0) missing++;
    if (i < first) continue;
    if (sent > 0) {
      late.push(sent - intended);
      firstSent = Math.min(firstSent, sent);
      lastSent = Math.max(lastSent, sent);
    }
    if (done === 0) continue;
    latencies.push(done - intended);
    lastEnd = Math.max(lastEnd, done);
    firstEnd = Math.min(firstEnd, done);
  }
  const counted = n - r.warmup;
  const from = r.t0 + intendedAt(first, r.rate);
  const window = lastEnd - from;
  const busy = r.spans.reduce((sum, s) => sum + busyWithin(s, from, lastEnd), 0);
  const lateness = tailPercentiles(late);
  const depth = r.depth.map((d) => ({ atMs: d.atMs, ready: d.ready }));
  return {
    target: r.rate,
    tasks: counted,
    reached: lastEnd > firstEnd ? ((latencies.length - 1) * 1000) / (lastEnd - firstEnd) : 0,
    sentRate: lastSent > firstSent ? ((late.length - 1) * 1000) / (lastSent - firstSent) : 0,
    latencyMs: tailPercentiles(latencies),
    senderLateMs: { p50: lateness.p50, p99: lateness.p99, max: lateness.max },
    // after the warm-up, as the rest
    maxDepth: depth.reduce((m, d) => (d.atMs >= from - r.t0 ? Math.max(m, d.ready) : m), 0),
    depth,
    utilisation: window > 0 && r.spans.length > 0 ? busy / (r.spans.length * window) : 0,
    missing,
    duplicates: r.duplicates,
  };
}
