import { describe, expect, test } from "bun:test";
import type { Outcome, Task } from "../../../../src/core/task.ts";
import { ReportBuilder, type ReportIdentity } from "../../../../src/core/worker/reports.ts";
import type { Settlement, WorkerEvent } from "../../../../src/core/worker/worker-state.ts";

const identity: ReportIdentity = {
  host: "web-1",
  pid: 4242,
  queue: "emails",
  startedAt: 1_000,
  intervalMs: 2000,
  concurrency: 2,
  prefetch: "auto",
};
const task = (messageId: string | undefined, attempt = 1) =>
  ({ queue: "emails", messageId, attempt }) as unknown as Task;
const OK: Outcome = { ok: true };
const start = (t: Task, at: number): WorkerEvent => ({ type: "start", task: t, at });
const finish = (t: Task, settled: Settlement, at: number): WorkerEvent => ({
  type: "finish",
  task: t,
  outcome: OK,
  settled,
  startedAt: at - 1,
  at,
});

function built(events: WorkerEvent[]): ReportBuilder {
  const builder = new ReportBuilder(identity);
  for (const e of events) builder.observe(e);
  return builder;
}

describe("ReportBuilder: the report built from the worker's events", () => {
  test("before any task: who it is, running, zero counts, no task", () => {
    expect(built([]).report(5_000)).toEqual({
      worker: "web-1:4242",
      host: "web-1",
      pid: 4242,
      queue: "emails",
      startedAt: 1_000,
      at: 5_000,
      intervalMs: 2000,
      state: "running",
      concurrency: 2,
      prefetch: "auto",
      counts: { done: 0, retried: 0, dead: 0, handedBack: 0, lost: 0 },
      tasks: [],
    });
  });

  test("the tasks running now: id (null without one), attempt, when each started", () => {
    const a = task("a", 1);
    const b = task(undefined, 3);
    const c = task("c", 2);
    const report = built([start(a, 2000), start(b, 2500), start(c, 2600), finish(c, "acked", 2700)]).report(3000);
    expect(report.tasks).toEqual([
      { id: "a", attempt: 1, startedAt: 2000 },
      { id: null, attempt: 3, startedAt: 2500 },
    ]);
  });

  test("two deliveries of one message id running at once are two tasks", () => {
    const first = task("same", 1);
    const again = task("same", 2);
    const builder = built([start(first, 10), start(again, 20), finish(first, "acked", 30)]);
    expect(builder.report(40).tasks).toEqual([{ id: "same", attempt: 2, startedAt: 20 }]);
  });

  test.each<[Settlement, keyof ReturnType<ReportBuilder["report"]>["counts"]]>([
    ["acked", "done"],
    ["retry", "retried"],
    ["dead", "dead"],
    ["requeued", "handedBack"],
    ["lost", "lost"],
  ])("a task settled '%s' counts as %s", (settled, count) => {
    const t = task("x");
    const report = built([
      start(t, 1),
      finish(t, settled, 2),
      start(task("y"), 3),
      finish(task("y"), settled, 4),
    ]).report(5);
    expect(report.counts[count]).toBe(2);
    expect(Object.values(report.counts).reduce((a, b) => a + b, 0)).toBe(2);
    expect(report.tasks).toEqual([{ id: "y", attempt: 1, startedAt: 3 }]); // a finish of a task never started changes no running task
  });

  test.each<[string, WorkerEvent[], string]>([
    ["consuming", [{ type: "state", from: "connecting", to: "consuming" }], "running"],
    ["reconnecting", [{ type: "state", from: "consuming", to: "reconnecting" }], "running"],
    [
      "a stop asked",
      [
        { type: "stopping", reason: "signal" },
        { type: "state", from: "consuming", to: "draining" },
      ],
      "stopping",
    ],
    [
      "stopped",
      [
        { type: "stopping", reason: "max-tasks" },
        { type: "state", from: "consuming", to: "draining" },
        { type: "state", from: "draining", to: "stopped" },
      ],
      "stopped",
    ],
  ])("state while %s", (_name, events, state) => {
    expect(built(events).report(1).state).toBe(state as "running");
  });

  test("counts are a copy: a later task does not change a report already made", () => {
    const builder = built([]);
    const before = builder.report(1);
    builder.observe(start(task("a"), 2));
    builder.observe(finish(task("a"), "acked", 3));
    expect(before.counts.done).toBe(0);
    expect(builder.report(4).counts.done).toBe(1);
  });
});
