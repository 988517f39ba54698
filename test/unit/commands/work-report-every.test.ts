import { describe, expect, test } from "bun:test";
import { planWork } from "../../../src/commands/work-plan.ts";
import { expectUsageError } from "../usage-error.ts";

type WorkFlags = Parameters<typeof planWork>[1];
const base: WorkFlags = {
  url: "amqp://broker.test",
  connectTimeout: 5000,
  queue: "task_queue",
  concurrency: 1,
  dotMs: 0,
  maxAttempts: 5,
  maxDeferrals: 20,
  retryDelay: 1000,
  retryMaxDelay: 300_000,
  killAfter: 5000,
  queueType: "classic",
  reconnectTimeout: 300_000,
};

describe("planWork --report-every", () => {
  test("not given: the plan leaves it to the worker's default", () => {
    expect(planWork([], base, false).reportEveryMs).toBeUndefined();
  });

  test.each([
    [0, 0],
    [100, 100],
    [2000, 2000],
    [3_600_000, 3_600_000],
  ])("%p ms is kept (0 = no reports)", (flag, ms) => {
    expect(planWork([], { ...base, reportEvery: flag }, false).reportEveryMs).toBe(ms);
  });

  test.each([1, 99, 3_600_001])("%p ms is refused", (flag) => {
    expect(expectUsageError(() => planWork([], { ...base, reportEvery: flag }, false)).message).toBe(
      "--report-every must be 0 (no reports) or from 100ms to 1h",
    );
  });
});
