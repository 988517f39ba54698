import { describe, expect, test } from "bun:test";
import { RouteCheck } from "../../../src/core/route-check.ts";

const flags = (check: RouteCheck, queue: string, n: number) => Array.from({ length: n }, () => check.mandatory(queue));

describe("RouteCheck: which tasks carry the mandatory flag", () => {
  test("every = 1: all of them, and nothing is left to check", () => {
    const check = new RouteCheck(1);
    expect(flags(check, "q", 5)).toEqual([true, true, true, true, true]);
    expect(check.unverified()).toEqual([]);
  });

  test("every = 4: the first, then each fourth, per queue", () => {
    const check = new RouteCheck(4);
    expect(flags(check, "a", 9)).toEqual([true, false, false, false, true, false, false, false, true]);
    expect(flags(check, "b", 2)).toEqual([true, false]);
  });

  test("a task someone waits on always carries it, and restarts the count", () => {
    const check = new RouteCheck(4);
    expect(flags(check, "q", 2)).toEqual([true, false]);
    expect(check.mandatory("q", true)).toBe(true);
    expect(flags(check, "q", 4)).toEqual([false, false, false, true]);
  });

  test("queues with tasks sent since their last flagged one are to be checked; a check covers what came before it only", () => {
    const check = new RouteCheck(3);
    check.mandatory("a"); // flagged
    expect(check.unverified()).toEqual([]);
    check.mandatory("a"); // not flagged
    check.mandatory("b"); // flagged
    const [[queue, stamp]] = check.unverified() as [[string, number]];
    expect(queue).toBe("a");
    check.mandatory("a"); // another without the flag, after the check began
    check.verified("a", stamp);
    expect(check.unverified().map(([q]) => q)).toEqual(["a"]);
    const [[, later]] = check.unverified() as [[string, number]];
    check.verified("a", later);
    expect(check.unverified()).toEqual([]);
  });

  test("a flagged task closes what is open on its queue", () => {
    const check = new RouteCheck(2);
    expect(flags(check, "q", 2)).toEqual([true, false]);
    expect(check.unverified().map(([q]) => q)).toEqual(["q"]);
    expect(check.mandatory("q")).toBe(true);
    expect(check.unverified()).toEqual([]);
  });

  test("every must be a positive integer", () => {
    expect(() => new RouteCheck(0)).toThrow(RangeError);
    expect(() => new RouteCheck(1.5)).toThrow(RangeError);
  });
});
