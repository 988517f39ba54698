import { describe, expect, test } from "bun:test";
import type { Settlement, WorkerEvent } from "../../../src/core/worker.ts";
import type { Task } from "../../../src/core/task.ts";
import { CONTENT_TYPE } from "../../../src/metrics/format.ts";
import { Counter } from "../../../src/metrics/counter.ts";
import { Gauge } from "../../../src/metrics/gauge.ts";
import { Histogram } from "../../../src/metrics/histogram.ts";
import { Registry } from "../../../src/metrics/registry.ts";
import { WorkerMetrics } from "../../../src/metrics/workerMetrics.ts";

const task = { queue: "q", messageId: "m", attempt: 1 } as unknown as Task;
const start = (at: number): WorkerEvent => ({ type: "start", task, at });
const finish = (settled: Settlement, startedAt: number, at: number): WorkerEvent => ({
  type: "finish",
  task,
  outcome: settled === "acked" ? { ok: true } : { ok: false, reason: "exit 3" },
  settled,
  startedAt,
  at,
});

test("the content type is the text format 0.0.4", () => {
  expect(CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
});

test("a small registry renders exactly", () => {
  const r = new Registry();
  const c = r.add(new Counter("demo_total", "Things done.\nSecond line.", ["queue", "outcome"]));
  const g = r.add(new Gauge("demo_up", "1 when up."));
  const h = r.add(new Histogram("demo_seconds", "Time taken.", ["queue"], [0.5, 1]));
  c.inc({ queue: 'we"ird\\q\n', outcome: "done" }, 3);
  c.inc({ queue: "q", outcome: "dead" });
  g.set({}, 1);
  h.observe({ queue: "q" }, 0.5);
  h.observe({ queue: "q" }, 2);
  expect(r.render()).toBe(`# HELP demo_total Things done.\\nSecond line.
# TYPE demo_total counter
demo_total{queue="we\\"ird\\\\q\\n",outcome="done"} 3
demo_total{queue="q",outcome="dead"} 1
# HELP demo_up 1 when up.
# TYPE demo_up gauge
demo_up 1
# HELP demo_seconds Time taken.
# TYPE demo_seconds histogram
demo_seconds_bucket{queue="q",le="0.5"} 1
demo_seconds_bucket{queue="q",le="1"} 1
demo_seconds_bucket{queue="q",le="+Inf"} 2
demo_seconds_sum{queue="q"} 2.5
demo_seconds_count{queue="q"} 2
`);
});

test("a registry refuses a name twice", () => {
  const r = new Registry();
  r.add(new Gauge("x", "help"));
  expect(() => r.add(new Counter("x", "help"))).toThrow("registered twice");
});

describe("WorkerMetrics", () => {
  test("before any event: every series at 0, not up", () => {
    const text = new WorkerMetrics("jobs").render();
    for (const outcome of ["done", "retry", "dead", "requeued", "lost"]) expect(text).toContain(`taskq_tasks_total{queue="jobs",outcome="${outcome}"} 0\n`);
    expect(text).toContain('taskq_tasks_in_flight{queue="jobs"} 0\n');
    expect(text).toContain('taskq_reconnects_total{queue="jobs"} 0\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="jobs",le="0.005"} 0\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="jobs",le="60"} 0\n');
    expect(text).toContain('taskq_task_duration_seconds_count{queue="jobs"} 0\n');
    expect(text).toContain("taskq_up 0\n");
    for (const type of ["taskq_tasks_total counter", "taskq_task_duration_seconds histogram", "taskq_tasks_in_flight gauge", "taskq_reconnects_total counter", "taskq_up gauge"]) {
      expect(text).toContain(`# TYPE ${type}\n`);
    }
  });

  const ready: WorkerEvent = { type: "ready", queue: "q", prefetch: 1, concurrency: 1 };
  const lost: WorkerEvent = { type: "disconnected", error: "x", running: 0 };
  test.each<[string, number, WorkerEvent[]]>([
    ["nothing", 0, []],
    ["ready", 1, [ready]],
    ["disconnected", 0, [ready, lost]],
    ["reconnected", 1, [ready, lost, { type: "reconnected" }]],
    ["stopping", 0, [ready, { type: "stopping", reason: "signal" }]],
    ["closed", 0, [ready, { type: "closed" }]],
  ])("taskq_up after %s is %p", (_name, up, events) => {
    const m = new WorkerMetrics("q");
    for (const e of events) m.observe(e);
    expect(m.up.value({})).toBe(up);
  });

  test.each<[Settlement, string]>([
    ["acked", "done"],
    ["retry", "retry"],
    ["dead", "dead"],
    ["requeued", "requeued"],
    ["lost", "lost"],
  ])("a task settled %p counts as outcome %p", (settled, outcome) => {
    const m = new WorkerMetrics("q");
    m.observe(start(1000));
    m.observe(finish(settled, 1000, 1250));
    expect(m.tasks.value({ queue: "q", outcome })).toBe(1);
    expect(m.render()).toContain(`taskq_tasks_total{queue="q",outcome="${outcome}"} 1\n`);
  });

  test("in flight, durations and reconnects follow the events", () => {
    const m = new WorkerMetrics("q");
    m.observe(start(0));
    m.observe(start(0));
    expect(m.inFlight.value({ queue: "q" })).toBe(2);
    m.observe(finish("acked", 0, 5)); // 5 ms: on the first bound
    m.observe({ type: "disconnected", error: "gone", running: 1 });
    m.observe({ type: "reconnected" });
    m.observe(finish("lost", 0, 90_000)); // 90 s: past the last bound
    expect(m.inFlight.value({ queue: "q" })).toBe(0);
    expect(m.reconnects.value({ queue: "q" })).toBe(1);
    const text = m.render();
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="q",le="0.005"} 1\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="q",le="60"} 1\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="q",le="+Inf"} 2\n');
    expect(text).toContain('taskq_task_duration_seconds_sum{queue="q"} 90.005\n');
    expect(text).toContain('taskq_task_duration_seconds_count{queue="q"} 2\n');
  });
});
