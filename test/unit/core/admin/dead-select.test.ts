import { describe, expect, test } from "bun:test";
import { type DeadSelector, type SelectableTask, selects, selectsAll } from "../../../../src/core/admin/dead-select.ts";

const NOW = Date.parse("2026-12-02T12:00:00.000Z");
const task: SelectableTask = {
  messageId: "m-1",
  reason: "command exited with code 3",
  exitCode: 3,
  failedAt: "2026-12-02T11:00:00.000Z",
};
const noHeaders: SelectableTask = { messageId: undefined, reason: undefined, exitCode: undefined, failedAt: undefined };
const bySignal: SelectableTask = {
  messageId: "m-2",
  reason: "command killed by SIGKILL",
  exitCode: null,
  failedAt: "not a date",
};

describe("selects", () => {
  test.each<[string, DeadSelector, SelectableTask, boolean]>([
    ["no selector: every task", {}, task, true],
    ["no selector: a task without headers too", {}, noHeaders, true],
    ["id, same", { id: "m-1" }, task, true],
    ["id, other", { id: "m-9" }, task, false],
    ["id, task without one", { id: "m-1" }, noHeaders, false],
    ["reason, a part", { reason: "code 3" }, task, true],
    ["reason, another case", { reason: "COMMAND EXITED" }, task, true],
    ["reason, not in it", { reason: "timed out" }, task, false],
    ["reason, task without one", { reason: "code" }, noHeaders, false],
    ["exit code, same", { exitCode: 3 }, task, true],
    ["exit code, other", { exitCode: 1 }, task, false],
    ["exit code, a signal's death has none", { exitCode: 0 }, bySignal, false],
    ["older than, dead an hour > 30m", { olderThanMs: 30 * 60_000 }, task, true],
    ["older than, dead an hour, not > 2h", { olderThanMs: 2 * 3_600_000 }, task, false],
    ["older than, exactly its age is not older", { olderThanMs: 3_600_000 }, task, false],
    ["older than, no failed-at: never", { olderThanMs: 0 }, noHeaders, false],
    ["older than, unreadable failed-at: never", { olderThanMs: 0 }, bySignal, false],
    ["AND: all match", { id: "m-1", reason: "exited", exitCode: 3, olderThanMs: 60_000 }, task, true],
    ["AND: one field off", { id: "m-1", reason: "exited", exitCode: 4 }, task, false],
  ])("%s", (_label, selector, subject, expected) => {
    expect(selects(selector, subject, NOW)).toBe(expected);
  });
});

describe("selectsAll", () => {
  test.each<[DeadSelector, boolean]>([
    [{}, true],
    [{ id: "x" }, false],
    [{ reason: "" }, false],
    [{ exitCode: 0 }, false],
    [{ olderThanMs: 0 }, false],
  ])("%j -> %p", (selector, expected) => {
    expect(selectsAll(selector)).toBe(expected);
  });
});
