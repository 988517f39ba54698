import { expect, test } from "bun:test";
import { DEFAULT_RETRY, type WorkOptions } from "taskq";
import { retryPolicy } from "../../../src/library/retry.ts";

// Type-checked by `tsc --noEmit -p .` (TS2739 before: baseDelayMs and maxDelayMs were required).
const partial: WorkOptions = { queue: "q", retry: { maxAttempts: 3 } };

test.each([
  [partial.retry, { ...DEFAULT_RETRY, maxAttempts: 3 }],
  [undefined, DEFAULT_RETRY],
  [{}, DEFAULT_RETRY],
  [
    { baseDelayMs: 50, maxDeferrals: 0 },
    { ...DEFAULT_RETRY, baseDelayMs: 50, maxDeferrals: 0 },
  ],
])("retry %j: the fields given over the defaults", (given, policy) => {
  expect(retryPolicy(given)).toEqual(policy);
});

test.each([
  [{ maxAttempts: 0 }, "retry.maxAttempts must be a whole number of at least 1, got 0"],
  [{ baseDelayMs: 1.5 }, "retry.baseDelayMs must be a whole number of at least 1, got 1.5"],
  [{ maxDelayMs: 10 }, "retry.maxDelayMs (10) must be at least retry.baseDelayMs (1000)"],
  [{ maxRedeliveries: 0 }, "retry.maxRedeliveries must be a whole number of at least 1, got 0"],
  [{ maxAttempt: 3 } as never, "retry.maxAttempt is not a retry option"],
])("retry %j: a one-line usage error", (given, message) => {
  expect(() => retryPolicy(given)).toThrow(message);
  try {
    retryPolicy(given);
  } catch (err) {
    expect((err as { exitCode: number }).exitCode).toBe(2);
  }
});
