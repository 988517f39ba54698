import { describe, expect, test } from "bun:test";
import { DEFAULT_WATCH_MS, planStatus } from "../../../src/commands/status.ts";
import { type Sample, formatAge, formatRate, readyRate, statusJson, statusLine, statusTable, watchFrame } from "../../../src/commands/status-view.ts";
import type { DeadStatus, QueueStatus } from "../../../src/core/admin/queue-status.ts";
import { expectUsageError } from "../usage-error.ts";

type StatusFlags = Parameters<typeof planStatus>[0];
const URL = "amqp://u:p@broker.test:5672/v";
const base: StatusFlags = { url: URL, connectTimeout: 5000, queue: "task_queue", retryDelay: 1000, retryMaxDelay: 300_000 };

describe("planStatus", () => {
  test.each<[string, Partial<StatusFlags>, { watchMs?: number; json: boolean; retry: object; queue: string }]>([
    ["defaults: one sample, the default retry policy", {}, { json: false, retry: { baseDelayMs: 1000, maxDelayMs: 300_000 }, queue: "task_queue" }],
    ["--watch without a value: every 2s", { watch: true }, { watchMs: DEFAULT_WATCH_MS, json: false, retry: {}, queue: "task_queue" }],
    ["--watch 500ms", { watch: 500 }, { watchMs: 500, json: false, retry: {}, queue: "task_queue" }],
    ["--watch at the minimum", { watch: 100 }, { watchMs: 100, json: false, retry: {}, queue: "task_queue" }],
    ["--json, another queue and policy", { json: true, queue: "jobs", retryDelay: 60_000, retryMaxDelay: 60_000 }, { json: true, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 }, queue: "jobs" }],
  ])("%s", (_name, flags, expected) => {
    const plan = planStatus({ ...base, ...flags });
    expect(plan).toMatchObject(expected);
    expect(plan.watchMs).toBe(expected.watchMs as number);
    expect(plan.target).toEqual({ urls: [URL], connectTimeoutMs: 5000 });
  });

  test.each<[string, Partial<StatusFlags>, string]>([
    ["an empty queue name", { queue: "" }, "--queue must be 1 to 250 bytes long"],
    ["a queue name too long for '.dead'", { queue: "q".repeat(251) }, "--queue must be 1 to 250 bytes long"],
    ["a zero retry delay", { retryDelay: 0 }, "--retry-delay must be above 0"],
    ["a max delay below the delay", { retryDelay: 2000, retryMaxDelay: 1000 }, "--retry-max-delay must be at least --retry-delay"],
    ["a watch interval below 100ms", { watch: 50 }, "--watch interval must be at least 100ms, got 50ms"],
    ["a zero watch interval", { watch: 0 }, "--watch interval must be at least 100ms"],
  ])("rejects %s", (_name, flags, message) => {
    expect(expectUsageError(() => planStatus({ ...base, ...flags })).message).toContain(message);
  });
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
const noDead: DeadStatus = { queue: "jobs.dead", exists: false, ready: 0, consumers: 0, oldest: undefined };
const someDead: DeadStatus = {
  queue: "jobs.dead",
  exists: true,
  ready: 2,
  consumers: 0,
  oldest: { messageId: "m-1", failedAt: new Date(AT - 312_000).toISOString(), reason: "command exited with code 3" },
};
const exists = (ready: number, more: Partial<Extract<QueueStatus, { exists: true }>> = {}): QueueStatus => ({ queue: "jobs", exists: true, ready, consumers: 2, retries: [], dead: noDead, ...more });
const sample = (at: number, status: QueueStatus): Sample => ({ at, status });
const busy = sample(AT, exists(12, { retries: [{ queue: "jobs.retry.1000", levelMs: 1000, ready: 3, consumers: 0 }, { queue: "jobs.retry.60000", levelMs: 60_000, ready: 1, consumers: 0 }], dead: someDead }));
const missing = sample(AT, { queue: "jobs", exists: false });

describe("readyRate: from the last two samples", () => {
  test.each<[string, Sample | undefined, Sample, number | undefined]>([
    ["first sample: none yet", undefined, busy, undefined],
    ["rising", sample(AT - 2000, exists(5)), busy, 3.5],
    ["falling", sample(AT - 500, exists(22)), busy, -20],
    ["the queue was missing before", sample(AT - 2000, { queue: "jobs", exists: false }), busy, undefined],
    ["the queue is missing now", sample(AT - 2000, exists(5)), missing, undefined],
    ["no time between them", sample(AT, exists(5)), busy, undefined],
  ])("%s", (_name, previous, current, rate) => {
    expect(readyRate(previous, current)).toBe(rate as number);
  });
});

describe("statusTable", () => {
  test("work queue, each retry level that exists, the dead queue with its oldest task", () => {
    expect(statusTable(busy)).toEqual([
      "QUEUE             READY  CONSUMERS",
      "jobs                 12          2",
      "jobs.retry.1000       3          0  retry after 1s",
      "jobs.retry.60000      1          0  retry after 1m",
      "jobs.dead             2          0  oldest 5m12s ago: command exited with code 3",
    ]);
  });

  test.each<[string, DeadStatus, string]>([
    ["no dead queue yet", noDead, "not created yet (no task has died)"],
    ["an empty dead queue", { ...noDead, exists: true }, ""],
    ["no failed-at header", { ...someDead, oldest: { messageId: undefined, failedAt: undefined, reason: undefined } }, "oldest of unknown age (no x-taskq-failed-at)"],
    ["a reason with a newline, escaped", { ...someDead, oldest: { messageId: undefined, failedAt: new Date(AT - 1000).toISOString(), reason: "bad\nthing" } }, "oldest 1s ago: bad\\nthing"],
  ])("dead row: %s", (_name, dead, note) => {
    const last = statusTable(sample(AT, exists(0, { dead }))).at(-1) ?? "";
    expect(last.replace(/^jobs\.dead\s+\d+\s+\d+\s*/, "")).toBe(note);
  });

  test("a missing queue is one line", () => {
    expect(statusTable(missing)).toEqual(["no such queue yet: 'jobs' (status never creates it; taskq send or work declares it)"]);
  });

  test("watching adds the ready rate to the work queue's row", () => {
    expect(statusTable(busy, true, 3.5)[1]).toBe("jobs                 12          2  ready +3.5/s");
    expect(statusTable(busy, true)[1]).toBe("jobs                 12          2  ready ?/s");
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
    ["a quiet queue, first sample", sample(AT, exists(0)), undefined, "2026-01-02T03:04:05.000Z jobs ready=0 consumers=2 rate=?/s retrying=0 dead=0"],
    ["a missing queue", missing, undefined, "2026-01-02T03:04:05.000Z no such queue yet: 'jobs' (status never creates it; taskq send or work declares it)"],
  ])("%s", (_name, s, rate, line) => {
    expect(statusLine(s, rate)).toBe(line);
  });
});

describe("statusJson: the shape documented in the README", () => {
  test("a queue with retrying and dead tasks", () => {
    expect(statusJson(busy, 3.5)).toEqual({
      time: "2026-01-02T03:04:05.000Z",
      queue: "jobs",
      exists: true,
      ready: 12,
      consumers: 2,
      readyPerSecond: 3.5,
      retrying: 4,
      retry: [
        { queue: "jobs.retry.1000", delayMs: 1000, ready: 3, consumers: 0 },
        { queue: "jobs.retry.60000", delayMs: 60_000, ready: 1, consumers: 0 },
      ],
      dead: { queue: "jobs.dead", exists: true, ready: 2, consumers: 0, oldest: { id: "m-1", failedAt: "2026-01-02T02:58:53.000Z", ageMs: 312_000, reason: "command exited with code 3" } },
    });
  });

  test.each<[string, Sample, number | undefined, Record<string, unknown>]>([
    ["no rate outside --watch: null", sample(AT, exists(1)), undefined, { readyPerSecond: null, retry: [], dead: { queue: "jobs.dead", exists: false, ready: 0, consumers: 0, oldest: null } }],
    ["a rate rounded to 3 decimals", sample(AT, exists(1)), 1 / 3, { readyPerSecond: 0.333 }],
    ["a missing queue: time, queue, exists only", missing, undefined, { time: "2026-01-02T03:04:05.000Z", queue: "jobs", exists: false }],
  ])("%s", (_name, s, rate, expected) => {
    expect(statusJson(s, rate)).toMatchObject(expected);
  });

  test("a missing queue has no other keys", () => {
    expect(Object.keys(statusJson(missing))).toEqual(["time", "queue", "exists"]);
  });
});
