import { describe, expect, test } from "bun:test";
import { AutoPrefetch, RESERVE_WHILE_TASKS_UNDER_RTTS } from "../../../../src/core/worker/auto-prefetch.ts";

/** Runs `durations` through a worker of `concurrency` whose slot waited `rttMs` before each task. */
function run(concurrency: number, rttMs: number, durations: number[]) {
  const auto = new AutoPrefetch(concurrency);
  const changes: number[] = [];
  let t = 0;
  for (const ms of durations) {
    auto.delivered(t);
    t += ms;
    const change = auto.freed(t, ms, true);
    if (change !== undefined) changes.push(change);
    t += rttMs;
  }
  return { auto, changes };
}

describe("--prefetch auto: one task in reserve while tasks are short next to the round trip", () => {
  test.each<[string, number, number, number[], number]>([
    ["5 ms tasks, 0.5 ms round trip: reserve", 1, 0.5, Array(20).fill(5), 2],
    ["mix 90% 5 ms, 10% 50 ms: reserve (the median is 5 ms)", 1, 0.5, Array.from({ length: 40 }, (_, i) => (i % 10 === 0 ? 50 : 5)), 2],
    ["cycle 50,5,5,5: reserve", 1, 0.5, Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 50 : 5)), 2],
    ["1-2 s tasks: no reserve, as prefetch 1", 1, 0.5, Array.from({ length: 20 }, (_, i) => 1000 + (i % 2) * 1000), 1],
    ["concurrency 4, short tasks: 5", 4, 0.5, Array(20).fill(2), 5],
    ["zero work: reserve", 1, 0.4, Array(20).fill(0), 2],
  ])("%s", (_label, concurrency, rtt, durations, expected) => {
    expect(run(concurrency, rtt, durations).auto.target()).toBe(expected);
  });

  test("starts without a reserve, and says when it changes (once per change)", () => {
    const { changes } = run(1, 0.5, [...Array(10).fill(5), ...Array(10).fill(2000), ...Array(10).fill(5)]);
    expect(changes).toEqual([2, 1, 2]);
    expect(new AutoPrefetch(3).target()).toBe(3);
  });

  test("the round trip is the shortest recent wait: an empty queue's long waits do not count", () => {
    const auto = new AutoPrefetch(1);
    for (const wait of [0.6, 250, 0.5, 3000, 0.7]) {
      auto.freed(0, 5, true);
      auto.delivered(wait);
    }
    expect(auto.rttMs).toBe(0.5);
  });

  test("the threshold is a number of round trips", () => {
    const at = (ms: number) => run(1, 1, Array(16).fill(ms)).auto.target();
    expect(at(RESERVE_WHILE_TASKS_UNDER_RTTS)).toBe(2);
    expect(at(RESERVE_WHILE_TASKS_UNDER_RTTS + 50)).toBe(1);
  });
});
