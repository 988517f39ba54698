import { describe, expect, test } from "bun:test";
import { NO_WORKERS, spanText, workersJson, workersTable } from "../../../src/commands/workers-view.ts";
import type { WorkerReport } from "../../../src/core/worker/reports.ts";

const T0 = Date.parse("2026-12-02T10:00:00.000Z");
const worker = (over: Partial<WorkerReport>): WorkerReport => ({
  worker: "web-1:4242",
  host: "web-1",
  pid: 4242,
  queue: "emails",
  startedAt: T0,
  at: T0 + 60_000,
  intervalMs: 2000,
  state: "running",
  concurrency: 2,
  prefetch: 2,
  counts: { done: 120, retried: 3, dead: 1, handedBack: 0, lost: 0 },
  tasks: [],
  ...over,
});

describe("spanText", () => {
  test.each([
    [0, "0ms"],
    [-5, "0ms"],
    [850, "850ms"],
    [4_260, "4.2s"],
    [42_000, "42s"],
    [312_000, "5m12s"],
    [3 * 3_600_000 + 4 * 60_000, "3h04m"],
    [2 * 86_400_000 + 3 * 3_600_000, "2d03h"],
  ])("%p ms reads %p", (ms, text) => {
    expect(spanText(ms)).toBe(text);
  });
});

describe("workersTable", () => {
  test("no worker: one line saying so", () => {
    expect(workersTable([], T0)).toEqual([NO_WORKERS]);
  });

  test("aligned columns, and under each worker one line per task running now", () => {
    const reports = [
      worker({
        tasks: [
          { id: "a1", attempt: 1, startedAt: T0 + 55_000 },
          { id: null, attempt: 3, startedAt: T0 + 59_150 },
        ],
      }),
      worker({
        worker: "web-22:7",
        host: "web-22",
        pid: 7,
        state: "stopping",
        startedAt: T0 + 30_000,
        counts: { done: 5, retried: 0, dead: 0, handedBack: 2, lost: 0 },
      }),
    ];
    expect(workersTable(reports, T0 + 60_000)).toEqual([
      "WORKER      QUEUE   STATE     DONE  RETRIED  DEAD     UP",
      "web-1:4242  emails  running    120        3     1  1m00s",
      "    task a1  attempt 1  running 5.0s",
      "    task (no id)  attempt 3  running 850ms",
      "web-22:7    emails  stopping     5        0     0    30s",
    ]);
  });

  test("an id with spaces or control characters is quoted, so each task stays one line", () => {
    const lines = workersTable(
      [worker({ tasks: [{ id: "two words\nand a line", attempt: 1, startedAt: T0 }] })],
      T0 + 1000,
    );
    expect(lines[2]).toBe(`    task "two words\\nand a line"  attempt 1  running 1.0s`);
  });
});

describe("workersJson", () => {
  test("one object per worker: times as ISO and as spans at `at`, counts flat, tasks with how long they have run", () => {
    const at = T0 + 60_000;
    expect(
      workersJson([worker({ prefetch: "auto", tasks: [{ id: "a1", attempt: 2, startedAt: T0 + 55_000 }] })], at),
    ).toEqual([
      {
        worker: "web-1:4242",
        host: "web-1",
        pid: 4242,
        queue: "emails",
        state: "running",
        concurrency: 2,
        prefetch: "auto",
        startedAt: "2026-12-02T10:00:00.000Z",
        upMs: 60_000,
        reportedAt: "2026-12-02T10:01:00.000Z",
        intervalMs: 2000,
        done: 120,
        retried: 3,
        dead: 1,
        handedBack: 0,
        lost: 0,
        tasks: [{ id: "a1", attempt: 2, startedAt: "2026-12-02T10:00:55.000Z", runningMs: 5000 }],
      },
    ]);
  });
});
