import { describe, expect, test } from "bun:test";
import { RouteCheck } from "../../../../src/core/publish/route-check.ts";

/** Publishes `n` tasks to `queue` with stamps from `from`: the flags they get. */
const flags = (check: RouteCheck, queue: string, n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => check.mandatory(queue, from + i));
const open = (check: RouteCheck) => check.unverified().map(([q]) => q);

describe("RouteCheck: which tasks carry the mandatory flag", () => {
  test("every = 1: all of them, and nothing is left to check", () => {
    const check = new RouteCheck(1);
    expect(flags(check, "q", 5)).toEqual([true, true, true, true, true]);
    expect(check.unverified()).toEqual([]);
  });

  test("every = 4: the 1st, 5th, 9th..., per queue", () => {
    const check = new RouteCheck(4);
    expect(flags(check, "a", 9)).toEqual([true, false, false, false, true, false, false, false, true]);
    expect(flags(check, "b", 2, 10)).toEqual([true, false]);
  });

  test("a task someone waits on always carries it, and restarts the count", () => {
    const check = new RouteCheck(4);
    expect(flags(check, "q", 2)).toEqual([true, false]);
    expect(check.mandatory("q", 3, true)).toBe(true);
    expect(flags(check, "q", 4, 4)).toEqual([false, false, false, true]);
  });
});

describe("RouteCheck: which queues are still to be checked", () => {
  test("unflagged tasks open their queue; a later proof (a flagged task confirmed, or a check) closes it", () => {
    const check = new RouteCheck(3);
    check.mandatory("a", 1); // flagged
    expect(open(check)).toEqual([]);
    check.mandatory("a", 2); // not flagged
    check.mandatory("b", 3); // flagged
    expect(check.unverified()).toEqual([["a", 2]]);
    check.verified("a", 1); // the flagged task before it proves nothing about it
    expect(open(check)).toEqual(["a"]);
    check.verified("a", 4); // a proof from after it
    expect(open(check)).toEqual([]);
  });

  test("a flagged task only sent (not yet confirmed) closes nothing", () => {
    const check = new RouteCheck(2);
    expect(flags(check, "q", 3)).toEqual([true, false, true]);
    expect(check.unverified()).toEqual([["q", 2]]);
  });

  test("a proof covers what came before it only: a task sent after the check began keeps the queue open", () => {
    const check = new RouteCheck(10);
    flags(check, "q", 3); // 1 flagged, 2 and 3 not
    const checkFrom = 3; // a check starts, covering up to 3
    check.mandatory("q", 4); // sent meanwhile, not flagged
    check.verified("q", checkFrom);
    expect(check.unverified()).toEqual([["q", 4]]);
  });

  test("every must be a positive integer", () => {
    expect(() => new RouteCheck(0)).toThrow(RangeError);
    expect(() => new RouteCheck(1.5)).toThrow(RangeError);
  });
});
