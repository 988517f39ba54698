import { expect, test } from "bun:test";
import { failureLine, verboseLine } from "../../../src/commands/work-report.ts";
import type { Outcome, Settlement, Task, WorkerEvent } from "taskq";

type Finish = Extract<WorkerEvent, { type: "finish" }>;
const finish = (settled: Settlement, outcome: Outcome, more: Partial<Finish> = {}): Finish => ({
  type: "finish",
  task: { messageId: "t-1", attempt: 1 } as Task,
  outcome,
  settled,
  startedAt: 1000,
  at: 1059,
  ...more,
});
const failed: Outcome = { ok: false, reason: "command exited with code 1", exitCode: 1 };
const notNow: Outcome = { ok: false, reason: "command exited with code 75", exitCode: 75 };

// Run time, backoff and deferral each have their own words: "retry in" is only ever a backoff.
test.each([
  [finish("acked", { ok: true }), " [-] task t-1 attempt 1: done in 59ms"],
  [finish("retry", failed, { retryInMs: 901 }), " [-] task t-1 attempt 1: failed, to retry after 59ms"],
  [finish("retry", notNow, { retryInMs: 6920 }), " [-] task t-1 attempt 1: not now after 59ms, deferred"],
  [finish("dead", failed, { deadQueue: "q.dead", error: "x" }), " [-] task t-1 attempt 1: failed, dead after 59ms"],
  [finish("requeued", failed), " [-] task t-1 attempt 1: handed back after 59ms"],
])("-v: %#", (event, line) => {
  expect(verboseLine(event)).toBe(line);
  expect(line).not.toContain("retry in");
});

test.each([
  [
    finish("retry", failed, { retryInMs: 901 }),
    " [!] task t-1 failed: command exited with code 1; attempt 1 failed, retry in 901ms",
  ],
  [
    finish("retry", notNow, { retryInMs: 6920 }),
    " [!] task t-1 failed: command exited with code 75; deferred 6.92s (not now: attempt 1 not spent)",
  ],
  [
    finish("dead", failed, { deadQueue: "q.dead", error: "failed 5 times" }),
    " [!] task t-1 failed: command exited with code 1; moved to 'q.dead' (failed 5 times)",
  ],
])("failure line: %#", (event, line) => {
  expect(failureLine(event)).toBe(line);
});
