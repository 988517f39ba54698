import { type Profile, parseProfile } from "../bench/workload.ts";
import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import { usageError } from "../errors.ts";

/** `bench --rate`: the open loop, one run per rate. */
export interface RatePlan {
  /** Tasks per second, ascending. */
  rates: number[];
  warmupMs: number;
  durationMs: number;
  prefetch: Prefetch;
  profile: Profile;
}

export type RateFlags = {
  rate?: string;
  rateDuration?: number;
  rateWarmup?: number;
  work: string;
  rounds: number;
  chaos?: string;
};

export const DEFAULT_RATE_DURATION_MS = 10_000;
export const DEFAULT_RATE_WARMUP_MS = 1000;
/** Most tasks one rate may send (as --tasks allows): each one's times are kept. */
const MAX_TASKS = 10_000_000;

/** Parses `500,1000,2000` into distinct rates, ascending: tasks per second, 1 to 1,000,000 (decimals allowed). */
export function parseRates(text: string): number[] {
  const rates = text.split(",").map((part) => {
    const v = part.trim();
    if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 1_000_000)
      throw usageError(`--rate '${text}': each rate must be a number of tasks per second above 0 and at most 1000000`);
    return Number(v);
  });
  return [...new Set(rates)].sort((a, b) => a - b);
}

/**
 * The open loop's plan, or null for the closed loop (no --rate). `given` names the flags typed on
 * the command line: with --rate, --work defaults to 0 (what taskq adds, not what tasks cost) and
 * --prefetch to 1, and --tasks, which the closed loop sends, is refused.
 */
export function planRate(
  flags: RateFlags,
  given: ReadonlySet<string>,
  prefetches: readonly Prefetch[],
): RatePlan | null {
  if (flags.rate === undefined) {
    for (const [key, flag] of [
      ["rateDuration", "--rate-duration"],
      ["rateWarmup", "--rate-warmup"],
    ] as const)
      if (given.has(key)) throw usageError(`${flag} is for --rate (the open loop)`);
    return null;
  }
  const rates = parseRates(flags.rate);
  if (given.has("tasks")) throw usageError("--rate sends each rate for --rate-duration, not --tasks N: drop --tasks");
  if (flags.chaos !== undefined)
    throw usageError(
      "--rate measures latency at a steady load, --chaos proves nothing is lost under faults: use one or the other",
    );
  if (flags.rounds > 1)
    throw usageError(
      "--rate runs each rate once (--rounds is for the closed loop): run the command again for more rounds",
    );
  if (given.has("prefetch") && prefetches.length !== 1)
    throw usageError(`--rate measures one --prefetch value at a time, got ${prefetches.join(",")}`);
  const durationMs = flags.rateDuration ?? DEFAULT_RATE_DURATION_MS;
  const warmupMs = flags.rateWarmup ?? DEFAULT_RATE_WARMUP_MS;
  if (durationMs <= 0) throw usageError("--rate-duration must be above 0");
  const most = rates[rates.length - 1] as number;
  if ((most * (durationMs + warmupMs)) / 1000 > MAX_TASKS)
    throw usageError(
      `--rate ${most} for ${durationMs + warmupMs} ms is more than ${MAX_TASKS} tasks: shorten --rate-duration`,
    );
  return {
    rates,
    warmupMs,
    durationMs,
    prefetch: given.has("prefetch") ? (prefetches[0] as Prefetch) : 1,
    profile: given.has("work") ? parseProfile(flags.work) : parseProfile("0"),
  };
}
