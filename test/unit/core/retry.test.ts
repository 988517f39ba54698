import { describe, expect, test } from "bun:test";
import { HANDLER_EXIT, calculateDelay, decide, retryLevel } from "../../../src/core/retry.ts";

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 500 };
const fail = (exitCode: number | null) => ({ ok: false as const, reason: "x", exitCode });

describe("retry levels double from the base, capped", () => {
  test.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 500],
    [10, 500],
  ])("attempt %d -> %d ms", (attempt, level) => {
    expect(retryLevel(policy, attempt)).toBe(level);
  });
});

describe("calculateDelay jitters down by at most 20%", () => {
  test.each([
    [0, 1000],
    [0.5, 900],
    [0.999999, 800],
  ])("random %d of a 1000 ms level -> %d ms", (r, expected) => {
    expect(calculateDelay(1000, () => r)).toBe(expected);
  });
});

describe("decide", () => {
  test.each<[string, number | null, number, object]>([
    ["first failure is retried at the base level", 3, 1, { action: "retry", levelMs: 100, delayMs: 100, nextAttempt: 2 }],
    ["third failure waits longer", 1, 3, { action: "retry", levelMs: 400, nextAttempt: 4 }],
    ["the last attempt goes dead", 3, 4, { action: "dead" }],
    ["a signal (no exit code) counts as a failure", null, 1, { action: "retry", nextAttempt: 2 }],
    [`exit ${HANDLER_EXIT.noRetry} goes dead at once`, HANDLER_EXIT.noRetry, 1, { action: "dead" }],
    [`exit ${HANDLER_EXIT.requeue} retries without counting`, HANDLER_EXIT.requeue, 4, { action: "retry", levelMs: 100, nextAttempt: 4 }],
  ])("%s", (_label, exitCode, attempt, expected) => {
    expect(decide(fail(exitCode), attempt, policy, () => 0)).toMatchObject(expected);
  });
});
