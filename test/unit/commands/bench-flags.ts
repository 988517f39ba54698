import type { planBench } from "../../../src/commands/bench-plan.ts";
import { DEFAULT_RATE_DURATION_MS, DEFAULT_RATE_WARMUP_MS } from "../../../src/commands/bench-rate-plan.ts";

export type BenchFlags = Parameters<typeof planBench>[0];

/** `bench`'s flags as commander hands them over: every default filled in. */
export const benchFlags: BenchFlags = {
  url: ["amqp://guest:guest@127.0.0.1:5672"],
  connectTimeout: 5000,
  workers: 4,
  tasks: 2000,
  work: "mix:90%5ms,10%50ms",
  prefetch: "1,100",
  rounds: 1,
  seed: 1,
  stall: 30_000,
  rateDuration: DEFAULT_RATE_DURATION_MS,
  rateWarmup: DEFAULT_RATE_WARMUP_MS,
};
