export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Exact nearest-rank percentile of sorted values (no histogram, no interpolation). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  // p/100 is inexact (99.9/100 * 1000 = 999.0000000000001): a product this close to a whole rank is that rank.
  const exact = (p / 100) * sorted.length;
  const rank = Math.abs(exact - Math.round(exact)) < 1e-9 * Math.max(1, exact) ? Math.round(exact) : Math.ceil(exact);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/** Jain's fairness index: 1 when all equal, 1/n when one does everything. */
export function jain(values: readonly number[]): number {
  const sum = values.reduce((s, v) => s + v, 0);
  const squares = values.reduce((s, v) => s + v * v, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

/** The best any schedule could do: all work spread evenly, but no task split. */
export function idealMakespan(durations: readonly number[], workers: number): number {
  let sum = 0;
  let longest = 0;
  for (const d of durations) {
    sum += d;
    if (d > longest) longest = d;
  }
  return Math.max(sum / workers, longest);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1
    ? (sorted[(n - 1) / 2] as number)
    : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
}

/** Percentiles plus the mean. */
export interface Spread extends Percentiles {
  mean: number;
}

export function spread(values: readonly number[]): Spread {
  const mean = values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
  return { ...percentiles(values), mean };
}

/**
 * How long each worker sat idle between finishing one task and starting its
 * next: `spans` holds one worker's tasks as flat [start, end, start, end, ...].
 * At prefetch 1 each gap is a broker round trip (ack out, next delivery in);
 * with a larger prefetch the next task is usually already there. Overlapping
 * tasks (concurrency above 1) count as no gap.
 */
export function idleGaps(spans: readonly (readonly number[])[]): number[] {
  const gaps: number[] = [];
  for (const flat of spans) {
    const tasks: Array<[number, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) tasks.push([flat[i] as number, flat[i + 1] as number]);
    tasks.sort((a, b) => a[0] - b[0]);
    let busyUntil = tasks[0]?.[1] ?? 0;
    for (const [start, end] of tasks.slice(1)) {
      gaps.push(Math.max(0, start - busyUntil));
      busyUntil = Math.max(busyUntil, end);
    }
  }
  return gaps;
}

/**
 * From how many times each task (1..n, index 0 unused) was reported done: those never done, and those done more than
 * once.
 */
export function unevenIds(seen: Uint8Array): { missingIds: number[]; duplicateIds: number[] } {
  const missingIds: number[] = [];
  const duplicateIds: number[] = [];
  for (let i = 1; i < seen.length; i++) {
    if (seen[i] === 0) missingIds.push(i);
    else if ((seen[i] as number) > 1) duplicateIds.push(i);
  }
  return { missingIds, duplicateIds };
}
