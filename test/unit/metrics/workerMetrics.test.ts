import { describe, expect, test } from "bun:test";
import type { Settlement, WorkerEvent } from "../../../src/core/worker/worker-state.ts";
import type { Task } from "../../../src/core/task.ts";
import { DURATION_BUCKETS, WorkerMetrics } from "../../../src/metrics/workerMetrics.ts";

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
const ready: WorkerEvent = { type: "ready", queue: "q", prefetch: 1, concurrency: 1 };
const lost: WorkerEvent = { type: "disconnected", error: "x", running: 0 };

function metrics(queue: string, events: WorkerEvent[]): WorkerMetrics {
  const m = new WorkerMetrics(queue);
  for (const e of events) m.observe(e);
  return m;
}

/** The value of one sample line (`name{labels}`), or undefined if it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Queue q's cumulative duration buckets after tasks that took these many milliseconds, `+Inf` last. */
function buckets(durationsMs: number[]): number[] {
  const text = metrics(
    "q",
    durationsMs.flatMap((ms) => [start(0), finish("acked", 0, ms)]),
  ).render();
  return [...DURATION_BUCKETS, "+Inf"].map(
    (le) => sample(text, `taskq_task_duration_seconds_bucket{queue="q",le="${le}"}`) as number,
  );
}

test("renders the text format exactly", () => {
  const m = metrics('we"ird\\q\n', [
    ready,
    start(0),
    start(0),
    start(0),
    start(0),
    finish("acked", 0, 5),
    finish("dead", 0, 2500),
    lost,
    { type: "reconnected" },
    finish("lost", 0, 90_000),
  ]);
  expect(m.render()).toBe(`# HELP taskq_tasks_total Tasks finished by this worker, by how they were settled.
# TYPE taskq_tasks_total counter
taskq_tasks_total{queue="we\\"ird\\\\q\\n",outcome="done"} 1
taskq_tasks_total{queue="we\\"ird\\\\q\\n",outcome="retry"} 0
taskq_tasks_total{queue="we\\"ird\\\\q\\n",outcome="dead"} 1
taskq_tasks_total{queue="we\\"ird\\\\q\\n",outcome="requeued"} 0
taskq_tasks_total{queue="we\\"ird\\\\q\\n",outcome="lost"} 1
# HELP taskq_task_duration_seconds Time from a task's start to its settlement, in seconds.
# TYPE taskq_task_duration_seconds histogram
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.005"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.01"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.025"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.05"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.1"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.25"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="0.5"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="1"} 1
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="2.5"} 2
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="5"} 2
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="10"} 2
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="30"} 2
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="60"} 2
taskq_task_duration_seconds_bucket{queue="we\\"ird\\\\q\\n",le="+Inf"} 3
taskq_task_duration_seconds_sum{queue="we\\"ird\\\\q\\n"} 92.505
taskq_task_duration_seconds_count{queue="we\\"ird\\\\q\\n"} 3
# HELP taskq_tasks_in_flight Tasks running now.
# TYPE taskq_tasks_in_flight gauge
taskq_tasks_in_flight{queue="we\\"ird\\\\q\\n"} 1
# HELP taskq_reconnects_total Times the worker reconnected after losing the broker.
# TYPE taskq_reconnects_total counter
taskq_reconnects_total{queue="we\\"ird\\\\q\\n"} 1
# HELP taskq_up 1 while the worker is consuming, else 0.
# TYPE taskq_up gauge
taskq_up 1
`);
});

test("every metric and label name is one the format allows", () => {
  const text = metrics("q", [ready, start(0), finish("acked", 0, 1)]).render();
  for (const line of text.split("\n").filter(Boolean)) {
    const [, name, labels = ""] = /^(?:# (?:HELP|TYPE) )?([^ {]+)(?:\{([^}]*)\})?/.exec(line) ?? [];
    expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    for (const pair of labels ? labels.split(",") : [])
      expect(pair.split("=")[0]).toMatch(/^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/);
  }
});

describe("the queue label value is escaped", () => {
  test.each([
    ["plain", "plain"],
    ["", ""],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\tmp", "C:\\\\tmp"],
    ["two\nlines", "two\\nlines"],
    ['\\"', '\\\\\\"'],
    ["\\n", "\\\\n"],
    ["tab\there", "tab\there"],
    ["ünïcödé ✓", "ünïcödé ✓"],
  ])("%p -> %p", (queue, escaped) => {
    expect(new WorkerMetrics(queue).render()).toContain(`\ntaskq_tasks_in_flight{queue="${escaped}"} 0\n`);
  });
});

describe("duration buckets", () => {
  test("run from 5 ms to 60 s, finite and strictly increasing", () => {
    expect(DURATION_BUCKETS[0]).toBe(0.005);
    expect(DURATION_BUCKETS.at(-1)).toBe(60);
    for (const [i, b] of DURATION_BUCKETS.entries())
      expect(Number.isFinite(b) && (i === 0 || b > (DURATION_BUCKETS[i - 1] as number))).toBe(true);
  });

  // le is inclusive: a duration equal to a bound counts in that bound's bucket.
  test.each([
    [0, 0],
    [-1, 0], // settled "before" its start (clock step): counted as 0 s
    [5, 0],
    [5.1, 1],
    [1000, 7],
    [1000.1, 8],
    [60_000, 12],
    [60_000.1, 13],
    [Infinity, 13],
  ])("%p ms goes in bucket %p", (ms, index) => {
    expect(buckets([ms]).indexOf(1)).toBe(index);
  });

  test.each(DURATION_BUCKETS.map((b, i) => [b, i] as const))("the bound %p s is its own bucket %p", (bound, index) => {
    expect(buckets([bound * 1000]).indexOf(1)).toBe(index);
  });

  test.each<[string, number[], number[]]>([
    ["none", [], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ["spread out", [1, 75, 2000, 45_000, 90_000], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 5]],
    ["all on the boundaries", [5, 1000, 60_000], [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]],
    ["all above the last bound", [61_000, 120_000], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]],
    ["all in the first", [0, 1, 5], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]],
  ])("cumulative, %s; +Inf equals the count", (_name, durationsMs, expected) => {
    expect(buckets(durationsMs)).toEqual(expected);
    const text = metrics(
      "q",
      durationsMs.flatMap((ms) => [start(0), finish("acked", 0, ms)]),
    ).render();
    expect(sample(text, 'taskq_task_duration_seconds_count{queue="q"}')).toBe(durationsMs.length);
  });
});

describe("WorkerMetrics", () => {
  test("before any event: every series at 0, not up", () => {
    const text = new WorkerMetrics("jobs").render();
    for (const outcome of ["done", "retry", "dead", "requeued", "lost"])
      expect(text).toContain(`taskq_tasks_total{queue="jobs",outcome="${outcome}"} 0\n`);
    expect(text).toContain('taskq_tasks_in_flight{queue="jobs"} 0\n');
    expect(text).toContain('taskq_reconnects_total{queue="jobs"} 0\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="jobs",le="0.005"} 0\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="jobs",le="60"} 0\n');
    expect(text).toContain('taskq_task_duration_seconds_count{queue="jobs"} 0\n');
    expect(text).toContain("taskq_up 0\n");
    for (const type of [
      "taskq_tasks_total counter",
      "taskq_task_duration_seconds histogram",
      "taskq_tasks_in_flight gauge",
      "taskq_reconnects_total counter",
      "taskq_up gauge",
    ]) {
      expect(text).toContain(`# TYPE ${type}\n`);
    }
  });

  test.each<[string, number, WorkerEvent[]]>([
    ["nothing", 0, []],
    ["ready", 1, [ready]],
    ["disconnected", 0, [ready, lost]],
    ["reconnected", 1, [ready, lost, { type: "reconnected" }]],
    ["stopping", 0, [ready, { type: "stopping", reason: "signal" }]],
    ["closed", 0, [ready, { type: "closed" }]],
  ])("taskq_up after %s is %p", (_name, up, events) => {
    expect(sample(metrics("q", events).render(), "taskq_up")).toBe(up);
  });

  test.each<[Settlement, string]>([
    ["acked", "done"],
    ["retry", "retry"],
    ["dead", "dead"],
    ["requeued", "requeued"],
    ["lost", "lost"],
  ])("a task settled %p counts as outcome %p, and only there", (settled, outcome) => {
    const text = metrics("q", [start(1000), finish(settled, 1000, 1250)]).render();
    for (const o of ["done", "retry", "dead", "requeued", "lost"])
      expect(sample(text, `taskq_tasks_total{queue="q",outcome="${o}"}`)).toBe(o === outcome ? 1 : 0);
  });

  test("outcomes add up", () => {
    const text = metrics("q", [
      finish("acked", 0, 1),
      finish("dead", 0, 1),
      finish("acked", 0, 1),
      finish("acked", 0, 1),
    ]).render();
    expect(sample(text, 'taskq_tasks_total{queue="q",outcome="done"}')).toBe(3);
    expect(sample(text, 'taskq_tasks_total{queue="q",outcome="dead"}')).toBe(1);
  });

  test("in flight, durations and reconnects follow the events", () => {
    const m = metrics("q", [start(0), start(0)]);
    expect(sample(m.render(), 'taskq_tasks_in_flight{queue="q"}')).toBe(2);
    m.observe(finish("acked", 0, 5)); // 5 ms: on the first bound
    m.observe({ type: "disconnected", error: "gone", running: 1 });
    m.observe({ type: "reconnected" });
    m.observe(finish("lost", 0, 90_000)); // 90 s: past the last bound
    const text = m.render();
    expect(sample(text, 'taskq_tasks_in_flight{queue="q"}')).toBe(0);
    expect(sample(text, 'taskq_reconnects_total{queue="q"}')).toBe(1);
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="q",le="0.005"} 1\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="q",le="60"} 1\n');
    expect(text).toContain('taskq_task_duration_seconds_bucket{queue="q",le="+Inf"} 2\n');
    expect(text).toContain('taskq_task_duration_seconds_sum{queue="q"} 90.005\n');
    expect(text).toContain('taskq_task_duration_seconds_count{queue="q"} 2\n');
  });
});
