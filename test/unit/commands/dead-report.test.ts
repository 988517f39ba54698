import { describe, expect, test } from "bun:test";
import type { DeadCounts } from "../../../src/core/admin/dead-budget.ts";
import { type PurgeBound, purgeNotes, requeueNotes } from "../../../src/commands/dead-report.ts";

const none: DeadCounts = { done: 10, uncertain: 0, cutOff: 0, gone: 0, added: 0, full: false };

describe("purgeNotes", () => {
  test.each<[string, Partial<DeadCounts>, PurgeBound, string[]]>([
    ["nothing to say", {}, {}, []],
    [
      "one uncertain",
      { uncertain: 1 },
      {},
      ["perhaps 1 more: the connection was lost after a delete was sent and before the broker answered"],
    ],
    [
      "two uncertain",
      { uncertain: 2 },
      { limit: 5 },
      ["perhaps 2 more: the connection was lost after deletes were sent and before the broker answered"],
    ],
    ["cut off, no limit: nothing left for it", { cutOff: 1 }, {}, []],
    ["cut off, the limit not reached: nothing left for it", { cutOff: 1 }, { limit: 500 }, []],
    [
      "cut off, the limit reached",
      { cutOff: 1, full: true },
      { limit: 500 },
      ["1 delete cut off by a lost connection counts against --limit 500 all the same: never more than 500 deleted"],
    ],
    [
      "cut off twice, the limit reached",
      { cutOff: 2, full: true },
      { limit: 500 },
      ["2 deletes cut off by a lost connection count against --limit 500 all the same: never more than 500 deleted"],
    ],
    [
      "cut off, agreed",
      { cutOff: 1 },
      { agreed: 12 },
      [
        "1 task of the 12 agreed to left in 'q.dead': a lost connection cut off its delete, which still counts against the 12 (purge again to delete it)",
      ],
    ],
    [
      "cut off twice, agreed",
      { cutOff: 2 },
      { agreed: 12 },
      [
        "2 tasks of the 12 agreed to left in 'q.dead': a lost connection cut off their deletes, which still count against the 12 (purge again to delete them)",
      ],
    ],
    [
      "added",
      { added: 1 },
      { agreed: 10 },
      ["the dead queue changed since the preview: 1 selected task not in it was left"],
    ],
    [
      "added and gone",
      { added: 3, gone: 2 },
      { agreed: 10 },
      [
        "the dead queue changed since the preview: 3 selected tasks not in it were left; 2 tasks in it were gone already",
      ],
    ],
    ["gone", { gone: 1 }, { agreed: 10 }, ["the dead queue changed since the preview: 1 task in it was gone already"]],
  ])("%s", (_label, counts, bound, lines) => {
    expect(purgeNotes("q.dead", { ...none, ...counts }, bound)).toEqual(lines);
  });
});

describe("requeueNotes", () => {
  test.each<[number, string[]]>([
    [0, []],
    [
      1,
      [
        "perhaps 1 more copied to 'q': the connection was lost before the broker confirmed the copy; that task stays in 'q.dead'",
      ],
    ],
    [
      3,
      [
        "perhaps 3 more copied to 'q': the connection was lost before the broker confirmed the copies; those tasks stay in 'q.dead'",
      ],
    ],
  ])("%i uncertain", (uncertain, lines) => {
    expect(requeueNotes("q.dead", "q", { ...none, uncertain })).toEqual(lines);
  });

  test("moved, and perhaps still dead too", () => {
    expect(requeueNotes("q.dead", "q", none, 2)).toEqual([
      "perhaps 2 of the moved still in 'q.dead' too: the connection was lost before the broker answered their removal",
    ]);
  });
});
