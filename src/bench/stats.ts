export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Exact nearest-rank percentile of sorted values (no histogram, no interpolation). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
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
  return n % 2 === 1 ? (sorted[(n - 1) / 2] as number) : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
}
