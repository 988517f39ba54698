import { describe, expect, test } from "bun:test";
import { idealMakespan, jain, median, percentile, percentiles } from "../../../src/bench/stats.ts";

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
