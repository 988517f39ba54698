import { describe, expect, test } from "bun:test";
import {
  AutoPrefetch,
  DROP_RESERVE_OVER_RTTS,
  RESERVE_WHILE_TASKS_UNDER_RTTS,
  TASKS_BETWEEN_CHANGES,
} from "../../../../src/core/worker/auto-prefetch.ts";

/**
 * Runs `durations` through a worker of `concurrency` whose slot waited `rttMs` (or `rttMs(i)`) before
 * each task, on the injected clock `t`; `maxReserve` as the session allows (1: a classic queue).
 */
function run(
  concurrency: number,
  rttMs: number | ((i: number) => number),
  durations: number[],
  maxReserve = 1,
  steadyRefills = false,
) {
  const auto = new AutoPrefetch(concurrency);
  auto.limitReserve(maxReserve, steadyRefills);
  const changes: number[] = [];
  /** The task after which each change came. */
  const changedAt: number[] = [];
  let t = 0;
  durations.forEach((ms, i) => {
    auto.delivered(t);
    t += ms;
    const change = auto.freed(t, ms, true);
    if (change !== undefined) {
      changes.push(change);
      changedAt.push(i);
    }
    t += typeof rttMs === "number" ? rttMs : rttMs(i);
  });
  return { auto, changes, changedAt };
}

describe("--prefetch auto: one task in reserve while tasks are short next to the round trip", () => {
  test.each<[string, number, number, number[], number]>([
    ["5 ms tasks, 0.5 ms round trip: reserve", 1, 0.5, Array(20).fill(5), 2],
    [
      "mix 90% 5 ms, 10% 50 ms: reserve (the median is 5 ms)",
      1,
      0.5,
      Array.from({ length: 40 }, (_, i) => (i % 10 === 0 ? 50 : 5)),
      2,
    ],
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

  test("a reserve held is dropped only once tasks are clearly long (no flapping at the threshold)", () => {
    const between = (RESERVE_WHILE_TASKS_UNDER_RTTS + DROP_RESERVE_OVER_RTTS) / 2;
    expect(run(1, 1, [...Array(16).fill(5), ...Array(32).fill(between)]).auto.holding).toBe(2);
    expect(run(1, 1, Array(32).fill(between)).auto.holding).toBe(1);
  });
});

describe("--prefetch auto where the consumer is replaced to change it (quorum queues): a reserve that covers the refill", () => {
  test.each<[string, number, number, number[], number]>([
    ["zero work: the most the session allows", 1, 3, Array(40).fill(0), 9],
    ["5 ms tasks, 3 ms refill: two refills covered by two tasks", 1, 3, Array(40).fill(5), 3],
    ["5 ms tasks, 8 ms refill (a loaded leader): four", 1, 8, Array(40).fill(5), 5],
    ["50 ms tasks, 3 ms refill: one", 1, 3, Array(40).fill(50), 2],
    ["concurrency 4, 1 ms tasks, 1 ms refill: two beyond the four", 4, 1, Array(40).fill(1), 6],
    [
      "1-2 s tasks, 3 ms refill: none, as prefetch 1",
      1,
      3,
      Array.from({ length: 40 }, (_, i) => 1000 + (i % 2) * 1000),
      1,
    ],
  ])("%s", (_label, concurrency, refill, durations, expected) => {
    expect(run(concurrency, refill, durations, 8).auto.holding).toBe(expected);
  });

  test("the reserve covers the slow refills, not the typical one: 5 ms tasks, refills of 1 ms and one in five of 10 ms", () => {
    expect(run(1, (i) => (i % 5 === 0 ? 10 : 1), Array(40).fill(5), 8).auto.holding).toBe(5);
  });

  test("the refill is the time from a task's end (its ack) to the next delivery", () => {
    const { auto } = run(1, 7, Array(20).fill(5), 8);
    expect(auto.refillMs).toBe(7);
  });

  test("changes come at least TASKS_BETWEEN_CHANGES tasks apart, and a refill jittering at a boundary does not flap", () => {
    // 5 ms tasks; the refill jitters between 2.4 and 2.6 ms: one reserve (4.8 / 5) or two (5.2 / 5).
    const { changes } = run(1, (i) => (i % 2 === 0 ? 2.4 : 2.6), Array(400).fill(5), 8);
    expect(changes.length).toBeLessThanOrEqual(2);
    // Zero work, then 50 ms tasks, then zero work again: the reserve shrinks and grows back.
    const { changes: steps, changedAt } = run(
      1,
      3,
      [...Array(20).fill(0), ...Array(20).fill(50), ...Array(20).fill(0)],
      8,
    );
    expect(steps[0]).toBe(9);
    expect(steps).toContain(2);
    expect(steps.at(-1)).toBe(9);
    for (let k = 1; k < changedAt.length; k++)
      expect((changedAt[k] as number) - (changedAt[k - 1] as number)).toBeGreaterThanOrEqual(TASKS_BETWEEN_CHANGES);
  });

  test("steady refills (a classic queue): the reserve covers one round trip, the shortest wait, not the slow refills", () => {
    // 5 ms tasks, waits of 0.3 ms and one in five of 10 ms (a handler holding the event loop, a busy machine):
    // one task in reserve, where varying refills (a quorum queue) would cover two slow ones with four.
    const waits = (i: number) => (i % 5 === 0 ? 10 : 0.3);
    expect(run(1, waits, Array(40).fill(5), 8, true).auto.holding).toBe(2);
    expect(run(1, waits, Array(40).fill(5), 8, false).auto.holding).toBe(5);
    // Tasks shorter than the round trip: as many as cover it (0.3 ms / 0.1 ms: 3, kept at 5 with half to spare after
    // the first decision, on the assumed 1 ms round trip, took 8), up to the limit for zero work.
    expect(run(1, 0.3, Array(40).fill(0.1), 8, true).auto.holding).toBe(6);
    expect(run(1, 0.3, Array(40).fill(0), 8, true).auto.holding).toBe(9);
  });

  test("a session that can hold one in reserve holds one at most, however short the tasks", () => {
    expect(run(1, 3, Array(40).fill(0)).auto.holding).toBe(2);
  });
});
