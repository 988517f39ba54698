import { describe, expect, test } from "bun:test";
import { CONNECT_BACKOFF } from "../../../src/core/broker/connect-error.ts";
import { backoffDelay } from "../../../src/util/backoff.ts";

describe("backoffDelay: jittered exponential, capped", () => {
  const b = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
  test.each([
    [1, 1, 100],
    [2, 1, 200],
    [3, 1, 400],
    [4, 1, 800],
    [5, 1, 1000],
    [20, 1, 1000],
    [1, 0, 50],
    [3, 0, 200],
    [5, 0.5, 750],
  ])("attempt %d, random %d -> %d ms", (attempt, r, expected) => {
    expect(backoffDelay(attempt, b, () => r)).toBe(expected);
  });

  test("the connections' backoff never waits longer than its cap", () => {
    for (let attempt = 1; attempt < 50; attempt++)
      expect(backoffDelay(attempt, CONNECT_BACKOFF)).toBeLessThanOrEqual(CONNECT_BACKOFF.maxMs);
  });
});
