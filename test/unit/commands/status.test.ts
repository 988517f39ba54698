import { describe, expect, test } from "bun:test";
import { statusJson } from "../../../src/commands/status-json.ts";
import { DEFAULT_WATCH_MS, planStatus } from "../../../src/commands/status-plan.ts";
import {
  type Sample,
  formatAge,
  formatRate,
  readyRate,
  statusLine,
  statusTable,
  watchFrame,
} from "../../../src/commands/status-view.ts";
import type { DeadStatus, QueueStatus } from "../../../src/core/admin/queue-status.ts";
import type { WorkerReport } from "../../../src/core/worker/reports.ts";
import { expectUsageError } from "../usage-error.ts";

type StatusFlags = Parameters<typeof planStatus>[0];
const URL = "amqp://u:p@broker.test:5672/v";
const base: StatusFlags = {
  url: URL,
  connectTimeout: 5000,
  queue: "task_queue",
  retryDelay: 1000,
  retryMaxDelay: 300_000,
};

describe("planStatus", () => {
  test.each<[string, Partial<StatusFlags>, { watchMs?: number; json: boolean; retry: object; queue: string }]>([
    [
      "defaults: one sample, the default retry policy",
      {},
      { json: false, retry: { baseDelayMs: 1000, maxDelayMs: 300_000 }, queue: "task_queue" },
    ],
    [
      "--watch without a value: every 2s",
      { watch: true },
      { watchMs: DEFAULT_WATCH_MS, json: false, retry: {}, queue: "task_queue" },
    ],
    ["--watch 500ms", { watch: 500 }, { watchMs: 500, json: false, retry: {}, queue: "task_queue" }],
    ["--watch at the minimum", { watch: 100 }, { watchMs: 100, json: false, retry: {}, queue: "task_queue" }],
    [
      "--json, another queue and policy",
      { json: true, queue: "jobs", retryDelay: 60_000, retryMaxDelay: 60_000 },
      { json: true, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 }, queue: "jobs" },
    ],
  ])("%s", (_name, flags, expected) => {
    const plan = planStatus({ ...base, ...flags });
    expect(plan).toMatchObject(expected);
    expect(plan.watchMs).toBe(expected.watchMs as number);
    expect(plan.target).toEqual({ urls: [URL], connectTimeoutMs: 5000 });
  });

  test.each<[string, Partial<StatusFlags>, string]>([
    ["a zero retry delay", { retryDelay: 0 }, "--retry-delay must be above 0"],
    [
      "a max delay below the delay",
      { retryDelay: 2000, retryMaxDelay: 1000 },
      "--retry-max-delay must be at least --retry-delay",
    ],
    ["a watch interval below 100ms", { watch: 50 }, "--watch interval must be at least 100ms, got 50ms"],
    [
      "--no-management with --management-url",
      { management: false, managementUrl: "http://h:15672" },
      "--management-url and --no-management contradict each other",
    ],
    [
      "a management URL of another scheme",
      { managementUrl: "amqp://h:15672" },
      "--management-url must be http:// or https://, not amqp://",
    ],
    [
      "a management URL that is not one",
      { managementUrl: "h:15672 x" },
      "--management-url must be http:// or https://",
    ],
    [
      "a management URL with a query",
      { managementUrl: "http://h:15672/?x=1" },
      "--management-url takes no ?query or #fragment",
    ],
    ["a zero watch interval", { watch: 0 }, "--watch interval must be at least 100ms"],
  ])("rejects %s", (_name, flags, message) => {
    expect(expectUsageError(() => planStatus({ ...base, ...flags })).message).toContain(message);
  });
});

test.each<[string, Partial<StatusFlags>, object]>([
  ["by default: the API at the broker's host", {}, { management: {}, workers: false }],
  [
    "--management-url",
    { managementUrl: "https://u:p@admin.test:443/rabbit" },
    { management: { url: "https://u:p@admin.test:443/rabbit" } },
  ],
  ["--no-management", { management: false }, { management: false }],
  ["--workers", { workers: true }, { workers: true }],
])("planStatus: %s", (_name, flags, expected) => {
  expect(planStatus({ ...base, ...flags })).toMatchObject(expected);
});

describe("formatAge: the two largest units", () => {
  test.each([
    [0, "0s"],
    [999, "0s"],
    [42_000, "42s"],
    [60_000, "1m00s"],
    [312_000, "5m12s"],
    [3_600_000, "1h00m"],
    [3 * 3_600_000 + 4 * 60_000 + 59_000, "3h04m"],
    [2 * 86_400_000 + 3 * 3_600_000, "2d03h"],
    [-5000, "0s"],
  ])("%d ms -> %s", (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe("formatRate", () => {
  test.each<[number | undefined, string]>([
    [undefined, "?/s"],
    [0, "0/s"],
    [0.04, "0/s"],
    [-0.04, "0/s"],
    [3.5, "+3.5/s"],
    [-2, "-2.0/s"],
    [99.94, "+99.9/s"],
    [1234.4, "+1234/s"],
    [-150.6, "-151/s"],
  ])("%p -> %s", (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });
});

const AT = Date.parse("2026-01-02T03:04:05.000Z");
const noDead: DeadStatus = {
  queue: "jobs.dead",
  exists: false,
  ready: 0,
  consumers: 0,
  oldest: undefined,
  reasons: [],
  sampled: 0,
};
const someDead: DeadStatus = {
  queue: "jobs.dead",
  exists: true,
  ready: 2,
  consumers: 0,
  oldest: { messageId: "m-1", failedAt: new Date(AT - 312_000).toISOString(), reason: "command exited with code 3" },
  reasons: [{ reason: "command exited with code 3", count: 2 }],
  sampled: 2,
};
const NOTE =
  "in progress (unacked), rates, delay levels and retry levels from other --retry-delay settings need the management plugin: http://broker.test:15672 refused the connection";
type Exists = Extract<QueueStatus, { exists: true }>;
const exists = (ready: number, more: Partial<Exists> = {}): QueueStatus => ({
  queue: "jobs",
  exists: true,
  ready,
  consumers: 2,
  retries: [],
  delays: [],
  dead: noDead,
  source: "amqp",
  missing: NOTE,
  ...more,
});
const sample = (at: number, status: QueueStatus): Sample => ({ at, status });
const busy = sample(
  AT,
  exists(12, {
    retries: [
      { queue: "jobs.retry.1000", levelMs: 1000, ready: 3, consumers: 0 },
      { queue: "jobs.retry.60000", levelMs: 60_000, ready: 1, consumers: 0 },
    ],
    dead: someDead,
  }),
);
const reporting = (tasks: WorkerReport["tasks"]): WorkerReport => ({
  worker: "web-1:1",
  host: "web-1",
  pid: 1,
  queue: "jobs",
  startedAt: AT - 60_000,
  at: AT,
  intervalMs: 2000,
  state: "running",
  concurrency: 2,
  prefetch: 2,
  counts: { done: 0, retried: 0, dead: 0, handedBack: 0, lost: 0 },
  tasks,
});
const missing = sample(AT, { queue: "jobs", exists: false, source: "amqp", missing: NOTE });
/** The same queue read through the management API: unacked counts, rates, a delay level, no note. */
const managed = (more: Partial<Exists> = {}): Sample => {
  const status = exists(12, {
    unacked: 3,
    rates: { publish: 4.2, deliver: 3.96, ack: 3.8 },
    retries: [{ queue: "jobs.retry.3000", levelMs: 3000, ready: 1, unacked: 0, consumers: 0 }],
    delays: [{ queue: "jobs.delay.500", levelMs: 500, ready: 2, unacked: 0, consumers: 0 }],
    dead: {
      ...someDead,
      unacked: 0,
      reasons: [
        { reason: "command exited with code 3", count: 1 },
        { reason: undefined, count: 1 },
      ],
    },
    source: "management",
    ...more,
  });
  delete (status as { missing?: string }).missing;
  return sample(AT, status);
};

describe("readyRate: from the last two samples", () => {
  test.each<[string, Sample | undefined, Sample, number | undefined]>([
    ["first sample: none yet", undefined, busy, undefined],
    ["rising", sample(AT - 2000, exists(5)), busy, 3.5],
    ["falling", sample(AT - 500, exists(22)), busy, -20],
    [
      "the queue was missing before",
      sample(AT - 2000, { queue: "jobs", exists: false, source: "amqp" }),
      busy,
      undefined,
    ],
    ["the queue is missing now", sample(AT - 2000, exists(5)), missing, undefined],
    ["no time between them", sample(AT, exists(5)), busy, undefined],
  ])("%s", (_name, previous, current, rate) => {
    expect(readyRate(previous, current)).toBe(rate as number);
  });
});

describe("statusTable", () => {
  test("AMQP only: work queue, each retry level that exists, the dead queue, the reasons, what is missing", () => {
    expect(statusTable(busy)).toEqual([
      "QUEUE             READY  IN PROGRESS  CONSUMERS",
      "jobs                 12            ?          2",
      "jobs.retry.1000       3            ?          0  retry after 1s",
      "jobs.retry.60000      1            ?          0  retry after 1m",
      "jobs.dead             2            ?          0  oldest 5m12s ago: command exited with code 3",
      "dead tasks by reason (all 2):",
      "  2  command exited with code 3",
      `note: ${NOTE}`,
    ]);
  });

  test("through the management API: in progress, rates, delay levels; the first of more dead tasks than peeked at", () => {
    expect(
      statusTable(
        managed({
          dead: {
            ...someDead,
            ready: 250,
            sampled: 100,
            unacked: 0,
            reasons: [
              { reason: "boom", count: 97 },
              { reason: undefined, count: 3 },
            ],
          },
        }),
      ),
    ).toEqual([
      "QUEUE            READY  IN PROGRESS  CONSUMERS",
      "jobs                12            3          2  in 4.2/s, out 4.0/s, acked 3.8/s",
      "jobs.retry.3000      1            0          0  retry after 3s",
      "jobs.delay.500       2            0          0  sent with --delay 500ms",
      "jobs.dead          250            0          0  oldest 5m12s ago: command exited with code 3",
      "dead tasks by reason (the first 100 of 250):",
      "  97  boom",
      "   3  (no x-taskq-reason)",
    ]);
  });

  test.each<[string, DeadStatus, string]>([
    ["no dead queue yet", noDead, "not created yet (no task has died)"],
    ["an empty dead queue", { ...noDead, exists: true }, ""],
    [
      "no failed-at header",
      { ...someDead, oldest: { messageId: undefined, failedAt: undefined, reason: undefined } },
      "oldest of unknown age (no x-taskq-failed-at)",
    ],
    [
      "a reason with a newline, escaped",
      {
        ...someDead,
        oldest: { messageId: undefined, failedAt: new Date(AT - 1000).toISOString(), reason: "bad\nthing" },
      },
      "oldest 1s ago: bad\\nthing",
    ],
  ])("dead row: %s", (_name, dead, note) => {
    const row = statusTable(sample(AT, exists(0, { dead }))).find((line) => line.startsWith("jobs.dead")) ?? "";
    expect(row.replace(/^jobs\.dead\s+\d+\s+\??\s+\d+\s*/, "")).toBe(note);
  });

  test("a missing queue is one line", () => {
    expect(statusTable(missing)).toEqual([
      "no such queue yet: 'jobs' (status never creates it; taskq send or work declares it)",
    ]);
  });

  test("watching adds the ready rate to the work queue's row, before the API's rates", () => {
    expect(statusTable(busy, true, 3.5)[1]).toBe("jobs                 12            ?          2  ready +3.5/s");
    expect(statusTable(busy, true)[1]).toBe("jobs                 12            ?          2  ready ?/s");
    expect(statusTable(managed(), true, -1)[1]).toBe(
      "jobs                12            3          2  ready -1.0/s, in 4.2/s, out 4.0/s, acked 3.8/s",
    );
  });

  test("--workers: the workers' table after a blank line", () => {
    const lines = statusTable({ ...busy, workers: [] });
    expect(lines.slice(-2)).toEqual([
      "",
      "no worker reported on this queue (taskq work reports every 2s unless --report-every 0)",
    ]);
  });

  test("watchFrame: a title line, a blank line, the table", () => {
    const frame = watchFrame(busy, 2000, -1);
    expect(frame[0]).toMatch(/^taskq status 'jobs', every 2s, at \d\d:\d\d:\d\d \(Ctrl\+C to stop\)$/);
    expect(frame[1]).toBe("");
    expect(frame.slice(2)).toEqual(statusTable(busy, true, -1));
  });
});

describe("statusLine: one line per sample when piped", () => {
  test.each<[string, Sample, number | undefined, string]>([
    [
      "a busy queue",
      busy,
      3.5,
      '2026-01-02T03:04:05.000Z jobs ready=12 consumers=2 rate=+3.5/s retrying=4 retry.1s=3 retry.1m=1 dead=2 oldest=5m12s reason="command exited with code 3"',
    ],
    [
      "a quiet queue, first sample",
      sample(AT, exists(0)),
      undefined,
      "2026-01-02T03:04:05.000Z jobs ready=0 consumers=2 rate=?/s retrying=0 dead=0",
    ],
    [
      "a missing queue",
      missing,
      undefined,
      "2026-01-02T03:04:05.000Z no such queue yet: 'jobs' (status never creates it; taskq send or work declares it)",
    ],
    [
      "through the management API: unacked, the rates in tenths, delay levels",
      managed(),
      undefined,
      '2026-01-02T03:04:05.000Z jobs ready=12 unacked=3 consumers=2 rate=?/s in=4.2/s out=4/s acked=3.8/s retrying=1 retry.3s=1 delay.500ms=2 dead=2 oldest=5m12s reason="command exited with code 3"',
    ],
    [
      "--workers: how many reported and the tasks they run",
      {
        ...sample(AT, exists(0)),
        workers: [
          reporting([
            { id: "a", attempt: 1, startedAt: AT },
            { id: "b", attempt: 2, startedAt: AT },
          ]),
          reporting([]),
        ],
      },
      undefined,
      "2026-01-02T03:04:05.000Z jobs ready=0 consumers=2 rate=?/s retrying=0 dead=0 workers=2 running=2",
    ],
    [
      "--workers, none reported",
      { ...sample(AT, exists(0)), workers: [] },
      undefined,
      "2026-01-02T03:04:05.000Z jobs ready=0 consumers=2 rate=?/s retrying=0 dead=0 workers=0 running=0",
    ],
  ])("%s", (_name, s, rate, line) => {
    expect(statusLine(s, rate)).toBe(line);
  });
});

describe("statusJson: the shape documented in docs/commands.md", () => {
  test("AMQP only: the first keys as they always were, then unacked and rates null, the note", () => {
    expect(statusJson(busy, 3.5)).toEqual({
      time: "2026-01-02T03:04:05.000Z",
      queue: "jobs",
      exists: true,
      ready: 12,
      consumers: 2,
      readyPerSecond: 3.5,
      retrying: 4,
      retry: [
        { queue: "jobs.retry.1000", delayMs: 1000, ready: 3, consumers: 0, unacked: null },
        { queue: "jobs.retry.60000", delayMs: 60_000, ready: 1, consumers: 0, unacked: null },
      ],
      dead: {
        queue: "jobs.dead",
        exists: true,
        ready: 2,
        consumers: 0,
        oldest: {
          id: "m-1",
          failedAt: "2026-01-02T02:58:53.000Z",
          ageMs: 312_000,
          reason: "command exited with code 3",
        },
        reasons: [{ reason: "command exited with code 3", count: 2 }],
        sampled: 2,
      },
      unacked: null,
      rates: null,
      delay: [],
      source: "amqp",
      missing: NOTE,
    });
  });

  test("through the management API", () => {
    expect(statusJson(managed())).toMatchObject({
      unacked: 3,
      rates: { publish: 4.2, deliver: 3.96, ack: 3.8 },
      retry: [{ queue: "jobs.retry.3000", delayMs: 3000, ready: 1, consumers: 0, unacked: 0 }],
      delay: [{ queue: "jobs.delay.500", delayMs: 500, ready: 2, consumers: 0, unacked: 0 }],
      dead: {
        reasons: [
          { reason: "command exited with code 3", count: 1 },
          { reason: null, count: 1 },
        ],
      },
      source: "management",
      missing: null,
    });
  });

  test.each<[string, Sample, number | undefined, Record<string, unknown>]>([
    [
      "no rate outside --watch: null",
      sample(AT, exists(1)),
      undefined,
      {
        readyPerSecond: null,
        retry: [],
        dead: { queue: "jobs.dead", exists: false, ready: 0, consumers: 0, oldest: null, reasons: [], sampled: 0 },
      },
    ],
    ["a rate rounded to 3 decimals", sample(AT, exists(1)), 1 / 3, { readyPerSecond: 0.333 }],
    [
      "a missing queue: time, queue, exists, where from",
      missing,
      undefined,
      { time: "2026-01-02T03:04:05.000Z", queue: "jobs", exists: false, source: "amqp", missing: NOTE },
    ],
    ["--workers: a workers array", { ...sample(AT, exists(1)), workers: [] }, undefined, { workers: [] }],
  ])("%s", (_name, s, rate, expected) => {
    expect(statusJson(s, rate)).toMatchObject(expected);
  });

  test("the keys, in order: the old ones first", () => {
    expect(Object.keys(statusJson(busy))).toEqual([
      "time",
      "queue",
      "exists",
      "ready",
      "consumers",
      "readyPerSecond",
      "retrying",
      "retry",
      "dead",
      "unacked",
      "rates",
      "delay",
      "source",
      "missing",
    ]);
    expect(Object.keys(statusJson(missing))).toEqual(["time", "queue", "exists", "source", "missing"]);
  });
});
