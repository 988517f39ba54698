import { describe, expect, test } from "bun:test";
import {
  DEFAULT_RETRY,
  HANDLER_EXIT,
  calculateDelay,
  decide,
  retryLevel,
  retryLevels,
} from "../../../../src/core/failures/retry-policy.ts";

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

describe("retryLevels: every level a policy can use, so status can find the retry queues", () => {
  test.each<[string, { baseDelayMs: number; maxDelayMs: number }, number[]]>([
    [
      "the defaults: 1s doubling up to 5m",
      DEFAULT_RETRY,
      [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000],
    ],
    ["a cap that is a doubling", { baseDelayMs: 100, maxDelayMs: 400 }, [100, 200, 400]],
    ["a cap between doublings", { baseDelayMs: 100, maxDelayMs: 500 }, [100, 200, 400, 500]],
    ["base equal to the cap: one level", { baseDelayMs: 60_000, maxDelayMs: 60_000 }, [60_000]],
    ["a cap below the base: the cap only (as retryLevel)", { baseDelayMs: 1000, maxDelayMs: 10 }, [10]],
  ])("%s", (_name, policy, levels) => {
    expect(retryLevels(policy)).toEqual(levels);
    // The same levels decide() and the worker use.
    for (const [i, level] of levels.entries()) expect(retryLevel(policy, i + 1)).toBe(level);
  });

  test("a tiny base with a huge cap still ends (levels double)", () => {
    expect(retryLevels({ baseDelayMs: 1, maxDelayMs: 3_600_000 })).toHaveLength(23);
  });

  test("a base of 0 is refused rather than looping for ever", () => {
    expect(() => retryLevels({ baseDelayMs: 0, maxDelayMs: 1000 })).toThrow(RangeError);
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
    [
      "first failure is retried at the base level",
      3,
      1,
      { action: "retry", levelMs: 100, delayMs: 100, nextAttempt: 2 },
    ],
    ["third failure waits longer", 1, 3, { action: "retry", levelMs: 400, nextAttempt: 4 }],
    ["the last attempt goes dead", 3, 4, { action: "dead" }],
    ["a signal (no exit code) counts as a failure", null, 1, { action: "retry", nextAttempt: 2 }],
    [`exit ${HANDLER_EXIT.noRetry} goes dead at once`, HANDLER_EXIT.noRetry, 1, { action: "dead" }],
    [
      `exit ${HANDLER_EXIT.notNow} retries without counting`,
      HANDLER_EXIT.notNow,
      4,
      { action: "retry", levelMs: 100, nextAttempt: 4, deferrals: 1 },
    ],
  ])("%s", (_label, exitCode, attempt, expected) => {
    expect(decide(fail(exitCode), { attempt, deferrals: 0 }, policy, () => 0)).toMatchObject(expected);
  });

  test.each<[string, number, number | undefined, object]>([
    ["the second 'not now' waits a level longer", 1, undefined, { action: "retry", levelMs: 200, deferrals: 2 }],
    ["'not now' keeps backing off up to the max delay", 9, undefined, { action: "retry", levelMs: 500, deferrals: 10 }],
    ["the 20th 'not now' is still retried by default", 19, undefined, { action: "retry", deferrals: 20 }],
    ["the 21st goes dead by default", 20, undefined, { action: "dead" }],
    ["a bound of 0 sends the first 'not now' dead", 0, 0, { action: "dead" }],
    ["a bound of 3 takes three", 2, 3, { action: "retry", deferrals: 3 }],
  ])("exit 75 is bounded: %s", (_label, deferrals, maxDeferrals, expected) => {
    const p = maxDeferrals === undefined ? policy : { ...policy, maxDeferrals };
    expect(decide(fail(HANDLER_EXIT.notNow), { attempt: 2, deferrals }, p, () => 0)).toMatchObject(expected);
  });
});
