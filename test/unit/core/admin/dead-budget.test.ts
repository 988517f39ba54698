import { describe, expect, test } from "bun:test";
import { DeadBudget, Tally } from "../../../../src/core/admin/dead-budget.ts";

describe("Tally", () => {
  test("counts each item; take removes one at a time", () => {
    const t = new Tally(["a", "a", "b"]);
    expect(t.size).toBe(3);
    expect([t.take("a"), t.take("a"), t.take("a"), t.take("c")]).toEqual([true, true, false, false]);
    expect([t.has("a"), t.has("b"), t.size]).toEqual([false, true, 1]);
  });
});

/** One step of a run: take a task, act on it, an answer, a lost connection, a task found again. */
type Step =
  | ["take", string]
  | ["act", string]
  | ["answer"]
  | ["lose"]
  | ["found", string]
  | ["retry", string]
  | ["pass"];

function run(budget: DeadBudget, steps: Step[]): boolean[] {
  let pass = budget.pass();
  const taken: boolean[] = [];
  for (const step of steps) {
    if (step[0] === "take") taken.push(budget.take(step[1]));
    else if (step[0] === "act") pass.acted(step[1]);
    else if (step[0] === "answer") pass.answered();
    else if (step[0] === "lose") pass.lost();
    else if (step[0] === "found") budget.foundAgain(step[1]);
    else if (step[0] === "retry") taken.push(budget.retry(step[1]));
    else pass = budget.pass();
  }
  return taken;
}

const acts = (...ids: string[]): Step[] =>
  ids.flatMap((id): Step[] => [
    ["take", id],
    ["act", id],
  ]);

describe("DeadBudget: done + in flight + uncertain + cut off = taken <= limit", () => {
  test.each<[string, number | undefined, Step[], boolean[], object]>([
    [
      "answered acts are done",
      3,
      [...acts("a", "b"), ["answer"]],
      [true, true],
      { done: 2, uncertain: 0, full: false },
    ],
    [
      "the limit: no unit past it",
      2,
      [...acts("a", "b"), ["take", "c"], ["answer"]],
      [true, true, false],
      { done: 2, full: true },
    ],
    [
      "lost before an answer: uncertain, its unit spent",
      2,
      [...acts("a"), ["answer"], ...acts("b"), ["lose"], ["pass"], ["take", "c"]],
      [true, true, false],
      { done: 1, uncertain: 1, full: true },
    ],
    [
      "found again (purge): cut off, and a new unit to delete it",
      3,
      [...acts("a", "b"), ["lose"], ["pass"], ["found", "a"], ...acts("a"), ["answer"], ["take", "c"]],
      [true, true, true, false],
      { done: 1, uncertain: 1, cutOff: 1, full: true },
    ],
    [
      "found again (requeue): the same unit again",
      2,
      [
        ...acts("a", "b"),
        ["lose"],
        ["pass"],
        ["retry", "a"],
        ["act", "a"],
        ["retry", "b"],
        ["act", "b"],
        ["answer"],
        ["retry", "a"],
      ],
      [true, true, true, true, false],
      { done: 2, uncertain: 0, cutOff: 0, full: true },
    ],
    [
      "a new pass: the one still open was lost",
      undefined,
      [...acts("a"), ["pass"], ["answer"]],
      [true],
      { done: 0, uncertain: 1, full: false },
    ],
    [
      "a lost pass lost twice counts once",
      undefined,
      [...acts("a"), ["lose"], ["lose"], ["pass"]],
      [true],
      { uncertain: 1 },
    ],
  ])("%s", (_label, limit, steps, taken, counts) => {
    const budget = new DeadBudget(limit);
    expect(run(budget, steps)).toEqual(taken);
    expect(budget.counts()).toMatchObject(counts);
  });

  test("agreed: only those, as many of each as agreed; the others added, the ones never found gone", () => {
    const budget = new DeadBudget(undefined, ["a", "a", "b", "c"]);
    expect(
      run(budget, [
        ...acts("a", "a"),
        ["take", "a"],
        ["take", "x"],
        ["take", "x"],
        ["take", "y"],
        ...acts("b"),
        ["answer"],
      ]),
    ).toEqual([true, true, false, false, false, false, true]);
    expect(budget.counts()).toEqual({ done: 3, uncertain: 0, cutOff: 0, gone: 1, added: 2, full: false });
  });

  test("agreed and cut off: the task found again is left (its unit is spent)", () => {
    const budget = new DeadBudget(undefined, ["a", "b"]);
    expect(
      run(budget, [...acts("a"), ["lose"], ["pass"], ["found", "a"], ["take", "a"], ...acts("b"), ["answer"]]),
    ).toEqual([true, false, true]);
    expect(budget.counts()).toEqual({ done: 1, uncertain: 0, cutOff: 1, gone: 0, added: 0, full: true });
  });

  test("a limit below the agreed count wins", () => {
    const budget = new DeadBudget(1, ["a", "b"]);
    expect(run(budget, [...acts("a"), ["take", "b"]])).toEqual([true, false]);
  });
});
