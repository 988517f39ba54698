import { describe, expect, test } from "bun:test";
import {
  idealMakespan,
  idleGaps,
  jain,
  median,
  percentile,
  percentiles,
  spread,
  unevenIds,
} from "../../../src/bench/stats.ts";

describe("percentile (exact, nearest rank)", () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  test.each([
    [ten, 50, 5],
    [ten, 95, 10],
    [ten, 10, 1],
    [ten, 100, 10],
    [ten, 0, 1],
    [[7], 99, 7],
    [[], 50, 0],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
  ])("%j p%d = %d", (sorted, p, expected) => {
    expect(percentile(sorted, p)).toBe(expected);
  });

  test("p99.9 of 1000, 2000, 10000 and 41000 samples is the nearest rank, not the max (99.9/100 is inexact)", () => {
    for (const n of [1000, 2000, 10_000, 41_000]) {
      const sorted = Array.from({ length: n }, (_, i) => i + 1);
      expect(percentile(sorted, 99.9)).toBe(n * 0.999);
      expect(percentile(sorted, 95)).toBe(n * 0.95);
    }
    expect(
      percentile(
        Array.from({ length: 1001 }, (_, i) => i + 1),
        99.9,
      ),
    ).toBe(1000); // 999.999: rounds up
  });

  test("percentiles sorts its input and reports the max", () => {
    expect(percentiles([9, 1, 5, 3, 7])).toEqual({ p50: 5, p95: 9, p99: 9, max: 9 });
  });
});

describe("Jain's fairness index", () => {
  test.each([
    [[5, 5, 5, 5], 1],
    [[10, 0, 0, 0], 0.25],
    [[1, 1, 0, 0], 0.5],
    [[1, 2, 3], 36 / 42], // (6^2) / (3 * 14)
    [[0, 0], 1],
  ])("%j = %d", (values, expected) => {
    expect(jain(values)).toBeCloseTo(expected, 10);
  });
});

describe("ideal makespan = max(total work / workers, longest task)", () => {
  test.each([
    [[5, 5, 5, 5], 4, 5],
    [[5, 5, 5, 5], 2, 10],
    [[50, 1, 1, 1], 4, 50],
    [[10, 20, 30], 2, 30],
    [[], 4, 0],
  ])("%j on %d workers = %d", (durations, workers, expected) => {
    expect(idealMakespan(durations, workers)).toBe(expected);
  });
});

test.each([
  [[3, 1, 2], 2],
  [[4, 1, 3, 2], 2.5],
  [[], 0],
])("median %j = %d", (values, expected) => {
  expect(median(values)).toBe(expected);
});

describe("idle gaps between a worker's tasks", () => {
  test.each([
    ["one worker, in order", [[0, 5, 5.5, 10, 10.25, 15]], [0.5, 0.25]],
    ["reported out of order", [[10.25, 15, 0, 5, 5.5, 10]], [0.5, 0.25]],
    [
      "two workers, gaps per worker",
      [
        [0, 5, 6, 8],
        [1, 2, 4, 9],
      ],
      [1, 2],
    ],
    ["back to back", [[0, 5, 5, 10]], [0]],
    ["overlapping tasks (concurrency 2) are no gap", [[0, 10, 2, 4, 12, 13]], [0, 2]],
    ["one task, no gap", [[0, 5]], []],
    ["a worker that did nothing", [[], [0, 1, 3, 4]], [2]],
  ])("%s", (_name, spans, expected) => {
    expect(idleGaps(spans)).toEqual(expected);
  });

  test("spread = percentiles + mean", () => {
    expect(spread([4, 1, 3, 2])).toEqual({ p50: 2, p95: 4, p99: 4, max: 4, mean: 2.5 });
    expect(spread([])).toEqual({ p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });
});

describe("unevenIds", () => {
  test("tasks never reported done and tasks reported more than once, by number", () => {
    const seen = Uint8Array.from([0, 1, 0, 2, 1, 3, 0]); // index 0 unused
    expect(unevenIds(seen)).toEqual({ missingIds: [2, 6], duplicateIds: [3, 5] });
    expect(unevenIds(Uint8Array.from([0, 1, 1]))).toEqual({ missingIds: [], duplicateIds: [] });
  });
});
