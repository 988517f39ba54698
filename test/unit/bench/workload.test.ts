import { describe, expect, test } from "bun:test";
import { parseProfile, seededRandom, taskBody, taskDurations } from "../../../src/bench/workload.ts";
import { TaskqError } from "../../../src/errors.ts";
import { countDots } from "../../../src/handlers/simulate.ts";

describe("parseProfile", () => {
  test.each([
    ["0", { kind: "zero" }],
    ["5ms", { kind: "fixed", ms: 5 }],
    ["1s", { kind: "fixed", ms: 1000 }],
    ["exp:5ms", { kind: "exp", meanMs: 5 }],
    [
      "mix:90%5ms,10%50ms",
      {
        kind: "mix",
        parts: [
          { share: 0.9, ms: 5 },
          { share: 0.1, ms: 50 },
        ],
      },
    ],
    ["cycle:50ms,5ms", { kind: "cycle", steps: [50, 5] }],
  ])("%s", (text, expected) => {
    expect(parseProfile(text)).toMatchObject(expected);
  });

  test.each([
    "",
    "fast",
    "exp:",
    "exp:0",
    "mix:90%5ms",
    "mix:50%5ms,60%1ms",
    "mix:5ms",
    "-5ms",
    "cycle:",
    "cycle:5ms,x",
  ])("rejects %p as a usage error", (text) => {
    let error: unknown;
    try {
      parseProfile(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TaskqError);
    expect((error as TaskqError).exitCode).toBe(2);
    expect((error as TaskqError).message).toContain("--work");
  });
});

describe("taskDurations", () => {
  test("the same seed gives the same workload; another seed another", () => {
    const mix = parseProfile("mix:90%5ms,10%50ms");
    expect(taskDurations(mix, 500, 7)).toEqual(taskDurations(mix, 500, 7));
    expect(taskDurations(mix, 500, 7)).not.toEqual(taskDurations(mix, 500, 8));
  });

  test("a mix draws its parts in roughly the given shares", () => {
    const d = taskDurations(parseProfile("mix:90%5ms,10%50ms"), 10_000, 1);
    const long = d.filter((x) => x === 50).length;
    expect(d.every((x) => x === 5 || x === 50)).toBe(true);
    expect(long).toBeGreaterThan(850);
    expect(long).toBeLessThan(1150);
  });

  test("exponential durations have about the given mean", () => {
    const d = taskDurations(parseProfile("exp:5ms"), 20_000, 3);
    const mean = d.reduce((s, x) => s + x, 0) / d.length;
    expect(mean).toBeGreaterThan(4.7);
    expect(mean).toBeLessThan(5.3);
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0);
  });

  test("a cycle repeats its durations in order", () => {
    expect(taskDurations(parseProfile("cycle:50ms,5ms,5ms"), 7, 1)).toEqual([50, 5, 5, 50, 5, 5, 50]);
  });

  test("fixed and zero", () => {
    expect(taskDurations(parseProfile("5ms"), 3, 1)).toEqual([5, 5, 5]);
    expect(taskDurations(parseProfile("0"), 2, 1)).toEqual([0, 0]);
  });
});

test("seededRandom stays in [0, 1)", () => {
  const r = seededRandom(42);
  for (let i = 0; i < 1000; i++) {
    const x = r();
    expect(x >= 0 && x < 1).toBe(true);
  }
});

test("a task body carries its duration as dots the worker counts", () => {
  expect(countDots(taskBody(12, 50))).toBe(50);
  expect(countDots(taskBody(3, 0))).toBe(0);
  expect(taskBody(3, 2).toString()).toBe("task 3 ..");
});
