import { usageError } from "../errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `1.5s`, `2m`, `1h`; a bare number is milliseconds. */
export function parseDuration(text: string, what = "duration"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) throw usageError(`${what}: expected a duration like 500ms, 2s or 1m, got '${text}'`);
  const value = Number(match[1]) * (UNITS[match[2] ?? "ms"] ?? 1);
  if (!Number.isFinite(value)) throw usageError(`${what}: '${text}' is out of range`);
  return Math.round(value);
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** A duration as a flag would take it, in the largest unit that is exact: 300000 → "5m", 1500 → "1500ms". */
export function durationText(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    const size = UNITS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
