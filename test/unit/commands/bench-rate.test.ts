import { describe, expect, test } from "bun:test";
import { planBench } from "../../../src/commands/bench-plan.ts";
import { type BenchFlags, benchFlags } from "./bench-flags.ts";
import { parseRates } from "../../../src/commands/bench-rate-plan.ts";
import { expectUsageError } from "../usage-error.ts";

const base = benchFlags;

describe("planBench: --rate", () => {
  test("without --rate: the closed loop", () => {
    expect(planBench(base).rate).toBeNull();
  });

  test("defaults: zero work, prefetch 1, 10 s per rate after a 1 s warm-up, rates ascending", () => {
    expect(planBench({ ...base, rate: "2000,500,1000" }, new Set(["rate"])).rate).toEqual({
      rates: [500, 1000, 2000],
      warmupMs: 1000,
      durationMs: 10_000,
      prefetch: 1,
      profile: { kind: "zero", text: "0" },
    });
  });

  test("--work, --prefetch, --rate-duration and --rate-warmup as typed", () => {
    const plan = planBench(
      { ...base, rate: "300", work: "2ms", prefetch: "10", rateDuration: 3000, rateWarmup: 0 },
      new Set(["rate", "work", "prefetch", "rateDuration", "rateWarmup"]),
    );
    expect(plan.rate).toEqual({
      rates: [300],
      warmupMs: 0,
      durationMs: 3000,
      prefetch: 10,
      profile: { kind: "fixed", text: "2ms", ms: 2 },
    });
  });

  test.each([
    ["1000", [1000]],
    ["500, 1000,500", [500, 1000]],
    ["0.5", [0.5]],
  ])("parseRates(%p)", (text, rates) => {
    expect(parseRates(text)).toEqual(rates);
  });

  test.each([
    [{ rate: "0" }, ["rate"], "--rate '0': each rate must be a number of tasks per second above 0 and at most 1000000"],
    [
      { rate: "500,fast" },
      ["rate"],
      "--rate '500,fast': each rate must be a number of tasks per second above 0 and at most 1000000",
    ],
    [{ rate: "" }, ["rate"], "--rate '': each rate must be a number of tasks per second above 0 and at most 1000000"],
    [
      { rate: "500", tasks: 100 },
      ["rate", "tasks"],
      "--rate sends each rate for --rate-duration, not --tasks N: drop --tasks",
    ],
    [
      { rate: "500", chaos: "kill-worker:1s" },
      ["rate", "chaos"],
      "--rate measures latency at a steady load, --chaos proves nothing is lost under faults: use one or the other",
    ],
    [
      { rate: "500", rounds: 3 },
      ["rate", "rounds"],
      "--rate runs each rate once (--rounds is for the closed loop): run the command again for more rounds",
    ],
    [
      { rate: "500", prefetch: "1,100" },
      ["rate", "prefetch"],
      "--rate measures one --prefetch value at a time, got 1,100",
    ],
    [{ rate: "500", rateDuration: 0 }, ["rate", "rateDuration"], "--rate-duration must be above 0"],
    [
      { rate: "1000000", rateDuration: 60_000 },
      ["rate", "rateDuration"],
      "--rate 1000000 for 61000 ms is more than 10000000 tasks: shorten --rate-duration",
    ],
    [{ rateDuration: 5000 }, ["rateDuration"], "--rate-duration is for --rate (the open loop)"],
    [{ rateWarmup: 5000 }, ["rateWarmup"], "--rate-warmup is for --rate (the open loop)"],
  ])("%j (typed: %j): one usage error", (flags, given, message) => {
    expect(expectUsageError(() => planBench({ ...base, ...flags } as BenchFlags, new Set(given))).message).toBe(
      message,
    );
  });
});
