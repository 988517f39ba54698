import { describe, expect, test } from "bun:test";
import { FailoverClock } from "../../../src/bench/failover.ts";

describe("FailoverClock", () => {
  test("from each worker's lost connection to the end of the first task it started after it", () => {
    const clock = new FailoverClock();
    clock.lostConnection(0, 1000);
    clock.lostConnection(0, 1001); // a second line of the same outage: still from the first
    clock.lostConnection(1, 1020);
    clock.done(2, 1040, 1050); // never lost its connection
    clock.done(0, 985, 990); // finished before the loss (its line came late): not through another node
    clock.done(0, 990, 1100); // running when the node died: it finishes, but not through another node
    clock.done(0, 1350, 1400);
    clock.done(0, 1450, 1500); // only the first task after the loss counts
    clock.done(1, 3000, 3020);
    expect(clock.figures()).toEqual({ p50: 1200, max: 2000, workers: 2, unmeasured: 0 });
  });

  test("a worker that loses its connection again is timed again", () => {
    const clock = new FailoverClock();
    clock.lostConnection(0, 1000);
    clock.done(0, 1290, 1300);
    clock.lostConnection(0, 6000);
    clock.done(0, 6050, 6100);
    expect(clock.figures()).toEqual({ p50: 200, max: 300, workers: 2, unmeasured: 0 });
  });

  test("a worker that did nothing again before the round ended is counted apart, not timed", () => {
    const clock = new FailoverClock();
    clock.lostConnection(0, 1000);
    clock.lostConnection(1, 1000);
    clock.done(0, 1400, 1500);
    expect(clock.figures()).toEqual({ p50: 500, max: 500, workers: 1, unmeasured: 1 });
    const idle = new FailoverClock();
    idle.lostConnection(3, 10);
    const none = idle.figures();
    expect(none?.workers).toBe(0);
    expect(none?.unmeasured).toBe(1);
    expect(Number.isNaN(none?.p50)).toBe(true);
  });

  test("no worker lost its connection: no figure", () => {
    const clock = new FailoverClock();
    clock.done(0, 100, 200);
    expect(clock.figures()).toBeNull();
  });

  test("timing: passes every report on, and times the done ones of that worker", () => {
    const clock = new FailoverClock();
    const passed: string[] = [];
    const report = clock.timing(7, (r: { outcome: string; start: number; end: number }) => passed.push(r.outcome));
    clock.lostConnection(7, 1000);
    report({ outcome: "lost", start: 1010, end: 1020 }); // not done: not a failover
    report({ outcome: "done", start: 1100, end: 1250 });
    expect(passed).toEqual(["lost", "done"]);
    expect(clock.figures()).toEqual({ p50: 250, max: 250, workers: 1, unmeasured: 0 });
  });

  test("a frozen node: from the freeze (the heartbeat's detection included) to the first task started after the loss was noticed", () => {
    const clock = new FailoverClock();
    // Frozen at 1000; worker 0's heartbeat timed out at 5000, worker 1's at 5600.
    clock.lostConnection(0, 5000, 1000);
    clock.lostConnection(1, 5600, 1000);
    clock.done(0, 4000, 4500); // started before it noticed: through the frozen node (its ack never got out)
    clock.done(0, 5200, 5300);
    clock.done(1, 5700, 6400);
    expect(clock.figures()).toEqual({ p50: 4850, max: 5400, workers: 2, unmeasured: 0 });
  });
});
