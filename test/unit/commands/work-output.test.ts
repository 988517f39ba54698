import { describe, expect, test } from "bun:test";
import type { DeadTask } from "../../../src/core/admin/dead-list.ts";
import type { Task } from "../../../src/core/task.ts";
import type { WorkerEvent, WorkerSummary } from "../../../src/core/worker/worker-state.ts";
import { deadTable, deadTaskJson } from "../../../src/commands/dead-view.ts";
import { summaryLine, verboseLine } from "../../../src/commands/work-report.ts";

const summary: WorkerSummary = { done: 12, failed: 1, retried: 3, requeued: 2, lost: 0, reconnects: 0, reason: "idle" };

describe("summaryLine: the one line a worker ends with", () => {
  test.each<[string, Partial<WorkerSummary>, number, string]>([
    ["after --idle-exit", {}, 4200, " [*] Stopped (--idle-exit): 12 done, 3 retried, 1 dead, 2 handed back in 4.20s"],
    [
      "after a signal, with tasks left to the broker and reconnects",
      { reason: "signal", lost: 1, reconnects: 2 },
      850,
      " [*] Stopped (signal): 12 done, 3 retried, 1 dead, 2 handed back, 1 left to the broker, 2 reconnect(s) in 850ms",
    ],
    [
      "after --max-tasks",
      { reason: "max-tasks", done: 5, retried: 0, failed: 0, requeued: 0 },
      61_000,
      " [*] Stopped (--max-tasks): 5 done, 0 retried, 0 dead, 0 handed back in 61.00s",
    ],
    [
      "after the persistent handler's failed starts",
      { reason: "handler", done: 0, retried: 4, failed: 0, requeued: 0 },
      1440,
      " [*] Stopped (the handler failed to start): 0 done, 4 retried, 0 dead, 0 handed back in 1.44s",
    ],
  ])("%s", (_name, s, ms, expected) => {
    expect(summaryLine({ ...summary, ...s }, ms)).toBe(expected);
  });
});

describe("verboseLine: -v, one line per task", () => {
  const task = { messageId: "abc-7", attempt: 2 } as Task;
  const finish = (
    settled: Extract<WorkerEvent, { type: "finish" }>["settled"],
  ): Extract<WorkerEvent, { type: "finish" }> => ({
    type: "finish",
    task,
    outcome: { ok: true },
    settled,
    startedAt: 1000,
    at: 1012.5,
  });
  test.each<[Extract<WorkerEvent, { type: "finish" }>["settled"], string]>([
    ["acked", "done in"],
    ["retry", "failed, to retry after"],
    ["dead", "failed, dead after"],
    ["requeued", "handed back after"],
    ["lost", "lost after"],
  ])("%s", (settled, words) => {
    // A run's time is said "in" or "after" it, never "retry in" (the backoff's words: work-wording.test.ts).
    expect(verboseLine(finish(settled))).toBe(` [-] task abc-7 attempt 2: ${words} 13ms`);
  });
});

describe("dead list: a task's stderr", () => {
  const dead = (stderr: string | undefined): DeadTask => ({
    messageId: "id-1",
    body: Buffer.from("file013.txt"),
    reason: "command exited with code 3",
    exitCode: 3,
    signal: null,
    failedAt: "2026-12-02T00:00:00.000Z",
    attempts: 1,
    host: "h",
    originalQueue: "jobs",
    stderr,
    headers: {},
  });

  test("the table: its last three non-blank lines under the row, escaped", () => {
    const lines = deadTable([dead("one\ntwo\n\nthree\x1b[31m\r\nbug: cannot parse file013.txt\n"), dead(undefined)]);
    expect(lines.slice(2, 5)).toEqual([
      "    stderr: two",
      "    stderr: three\\x1b[31m",
      "    stderr: bug: cannot parse file013.txt",
    ]);
    expect(lines).toHaveLength(6); // header, row, three stderr lines, the row without stderr
    expect(lines[5]).toStartWith("id-1");
  });

  test("JSON: the whole tail, or null", () => {
    expect(deadTaskJson(dead("a\nb\n")).stderr).toBe("a\nb\n");
    expect(deadTaskJson(dead(undefined)).stderr).toBeNull();
  });
});
