import { describe, expect, test } from "bun:test";
import { rateFigures } from "../../../src/bench/rate-figures.ts";
import { type PaceClock, intendedAt, paced, tasksIn } from "../../../src/bench/rate-schedule.ts";

/** A clock that only moves when slept on (timers late by `lateMs`), or when a test moves it. */
class FakeClock implements PaceClock {
  t = 1_000_000;
  turns = 0;
  constructor(private readonly lateMs = 0) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms + this.lateMs;
  };
  turn = async () => {
    this.turns++;
  };
}

/** Drives the paced sender: each item's publish time, the clock moved by `stall(index)` after it. */
async function send(
  count: number,
  rate: number,
  clock: FakeClock,
  stall: (index: number) => number = () => 0,
): Promise<{ t0: number; publishedAt: Float64Array }> {
  const publishedAt = new Float64Array(count + 1);
  let t0 = 0;
  for await (const i of paced(
    count,
    rate,
    (i) => i,
    clock,
    (t) => (t0 = t),
  )) {
    publishedAt[i] = clock.now();
    clock.t += stall(i);
  }
  return { t0, publishedAt };
}

describe("the open-loop schedule", () => {
  test.each([
    [1, 1000, 0],
    [2, 1000, 1],
    [501, 500, 1000],
    [3, 4, 500],
  ])("task %d at %d/s is meant to be sent %d ms after the start", (index, rate, ms) => {
    expect(intendedAt(index, rate)).toBe(ms);
  });

  test.each([
    [10_000, 500, 5000],
    [1000, 2000, 2000],
    [0, 1000, 0],
    [1500, 3, 5],
  ])("%d ms at %d/s holds %d tasks", (ms, rate, n) => {
    expect(tasksIn(ms, rate)).toBe(n);
  });

  test("each task goes out at its intended time, never before", async () => {
    const clock = new FakeClock();
    const { t0, publishedAt } = await send(100, 200, clock);
    for (let i = 1; i <= 100; i++) expect(publishedAt[i]).toBe(t0 + intendedAt(i, 200));
  });

  test("timers that fire late: never early, and the rate is kept (the due ones go out together)", async () => {
    const clock = new FakeClock(3);
    const { t0, publishedAt } = await send(1000, 1000, clock);
    for (let i = 1; i <= 1000; i++) {
      expect(publishedAt[i] as number).toBeGreaterThanOrEqual(t0 + intendedAt(i, 1000));
      expect(publishedAt[i] as number).toBeLessThanOrEqual(t0 + intendedAt(i, 1000) + 4);
    }
  });

  test("a backlog goes out in batches, with a turn of the event loop every 64 tasks", async () => {
    const clock = new FakeClock();
    // Stalled 1 s after task 1: tasks 2..1001 at 1000/s are all due at once.
    await send(1001, 1000, clock, (i) => (i === 1 ? 1000 : 0));
    expect(clock.turns).toBe(Math.floor(1000 / 64));
  });

  test("stop() is asked before each task, and what it returns is thrown", async () => {
    const clock = new FakeClock();
    let sent = 0;
    const items = paced(
      10,
      100,
      (i) => i,
      clock,
      () => {},
      () => (sent === 3 ? new Error("interrupted") : undefined),
    );
    const run = async () => {
      for await (const _ of items) sent++;
    };
    await expect(run()).rejects.toThrow("interrupted");
    expect(sent).toBe(3);
  });
});

describe("latency without coordinated omission", () => {
  test("a sender that stalls does not hide its backlog: latency counts from the intended send time", async () => {
    const rate = 100;
    const clock = new FakeClock();
    // 1000 tasks at 100/s; the sender hangs 2 s after task 300 (a full confirm window, a GC pause).
    const { t0, publishedAt } = await send(1000, rate, clock, (i) => (i === 300 ? 2000 : 0));
    // Each task is done 1 ms after it was published, on one worker.
    const doneAt = publishedAt.map((t, i) => (i === 0 ? 0 : t + 1));
    const spans = [[...publishedAt.slice(1)].flatMap((t) => [t, t + 1])];
    const f = rateFigures({ rate, t0, warmup: 0, publishedAt, doneAt, spans, depth: [], duplicates: 0 });
    // Measured from the publish, every task took 1 ms: the stall would be invisible.
    expect(Math.max(...[...doneAt.slice(1)].map((d, i) => d - (publishedAt[i + 1] as number)))).toBe(1);
    // From the intended time the 200 tasks due during the stall waited up to 2 s: over 2% of all.
    expect(f.latencyMs.p50).toBe(1);
    expect(f.latencyMs.p99).toBeGreaterThan(1500);
    expect(f.latencyMs.max).toBe(2001 - 10);
    expect(f.senderLateMs.max).toBe(2000 - 10);
    expect(f.missing).toBe(0);
  });

  test("the warm-up is sent and accounted for, but not counted", () => {
    const rate = 1000;
    const t0 = 0;
    const n = 20;
    const publishedAt = Float64Array.from({ length: n + 1 }, (_, i) => (i === 0 ? 0 : intendedAt(i, rate)));
    // The first 10 (the warm-up) took 50 ms, the rest 2 ms; task 20 was never done.
    const doneAt = publishedAt.map((t, i) => (i === 0 || i === 20 ? 0 : t + (i <= 10 ? 50 : 2)));
    const f = rateFigures({
      rate,
      t0,
      warmup: 10,
      publishedAt,
      doneAt,
      spans: [[]],
      depth: [
        { atMs: 0, ready: 30 },
        { atMs: 200, ready: 7 },
      ],
      duplicates: 0,
    });
    expect(f.tasks).toBe(10);
    expect(f.latencyMs).toEqual({ p50: 2, p95: 2, p99: 2, p999: 2, max: 2 });
    expect(f.missing).toBe(1);
    expect(f.maxDepth).toBe(7); // the warm-up's depth (30) is plotted, not counted
    expect(f.depth).toHaveLength(2);
    expect(f.reached).toBeCloseTo(1000, 6);
    expect(f.sentRate).toBeCloseTo(1000, 6);
  });

  test("utilisation: the workers' busy time inside the counted window / (workers × window)", () => {
    const rate = 10;
    const publishedAt = Float64Array.from([0, 0, 100, 200, 300, 400]);
    const doneAt = Float64Array.from([0, 50, 150, 250, 350, 1000]);
    // Two workers: one busy 100..1000 (900 ms), one busy 0..50 (in the warm-up, outside the window).
    const f = rateFigures({
      rate,
      t0: 0,
      warmup: 1,
      publishedAt,
      doneAt,
      spans: [
        [100, 1000],
        [0, 50],
      ],
      depth: [],
      duplicates: 0,
    });
    // Window: task 2's intended time (100) to the last end (1000): 900 ms x 2 workers.
    expect(f.utilisation).toBeCloseTo(0.5, 9);
  });
});

test("a timer that fires early is slept on again: no task goes out before its time", async () => {
  // Each sleep ends 0.4 ms early (a timer rounded to whole milliseconds), at least 0.1 ms on.
  const clock = new FakeClock();
  clock.sleep = async (ms: number) => {
    clock.t += Math.max(0.1, ms - 0.4);
  };
  const { t0, publishedAt } = await send(50, 300, clock);
  for (let i = 1; i <= 50; i++) expect(publishedAt[i] as number).toBeGreaterThanOrEqual(t0 + intendedAt(i, 300));
});
