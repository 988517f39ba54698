import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { jsonLine } from "../../../src/commands/work-report.ts";
import { toMono } from "../../../src/util/mono.ts";
import { planWork } from "../../../src/commands/work-plan.ts";
import type { Task } from "../../../src/core/task.ts";
import type { WorkerEvent } from "../../../src/core/worker/worker-state.ts";
import { expectUsageError } from "../usage-error.ts";

type WorkFlags = Parameters<typeof planWork>[1];
const URL = "amqp://u:p@broker.test:5672/v";
const base: WorkFlags = {
  url: URL,
  connectTimeout: 5000,
  queue: "task_queue",
  concurrency: 1,
  dotMs: 0,
  maxAttempts: 5,
  maxDeferrals: 20,
  retryDelay: 1000,
  retryMaxDelay: 300_000,
  killAfter: 5000,
  queueType: "classic",
  reconnectTimeout: 300_000,
};
const executableScript = join(import.meta.dir, "..", "..", "..", "scripts", "test");

describe("planWork prefetch", () => {
  test.each<[string, Partial<WorkFlags>, number, number]>([
    ["defaults to concurrency 1", {}, 1, 1],
    ["defaults to a larger concurrency", { concurrency: 8 }, 8, 8],
    ["equal to concurrency", { concurrency: 4, prefetch: 4 }, 4, 4],
    ["above concurrency", { concurrency: 2, prefetch: 10 }, 10, 2],
  ])("%s", (_name, flags, prefetch, concurrency) => {
    const plan = planWork([], { ...base, ...flags }, false);
    expect(plan.prefetch).toBe(prefetch);
    expect(plan.concurrency).toBe(concurrency);
  });

  test.each([
    [1, 2],
    [3, 4],
    [1, 1000],
  ])("rejects --prefetch %p below --concurrency %p", (prefetch, concurrency) => {
    const error = expectUsageError(() => planWork([], { ...base, prefetch, concurrency }, false));
    expect(error.message).toContain(`--prefetch (${prefetch}) must be at least --concurrency (${concurrency})`);
  });
});

describe("planWork command", () => {
  test("'--' with no command is rejected", () => {
    const error = expectUsageError(() => planWork([], base, true));
    expect(error.message).toContain("missing command after '--'");
  });

  test("no '--' and no command means the simulated tutorial worker", () => {
    expect(planWork([], base, false).command).toEqual([]);
  });

  test.each([
    ["a name not on PATH", ["taskq-no-such-command-1f3a9c"]],
    ["an absolute path that does not exist", ["/nonexistent/dir/process.sh", "arg"]],
    ["a relative path that does not exist", ["./no-such-script.sh"]],
    ["a file that is not executable", ["/etc/passwd"]],
  ])("rejects %s", (_name, command) => {
    const error = expectUsageError(() => planWork(command, base, true));
    expect(error.message).toBe(`command not found or not executable: ${command[0]}`);
  });

  test.each([
    ["sh from PATH", ["sh", "-c", "cat >/dev/null"]],
    ["an absolute path", ["/bin/sh", "-c", "true"]],
    ["an executable script by path", [executableScript]],
  ])("accepts %s and keeps the argv", (_name, command) => {
    expect(planWork(command, base, true).command).toEqual(command);
  });
});

describe("planWork --prefetch auto", () => {
  test("auto is kept, whatever the concurrency", () => {
    expect(planWork([], { ...base, prefetch: "auto", concurrency: 4 }, false).prefetch).toBe("auto");
  });

  test("auto with a quorum queue is planned (the worker replaces its consumer to change the prefetch)", () => {
    const plan = planWork([], { ...base, prefetch: "auto", queueType: "quorum" }, false);
    expect([plan.prefetch, plan.queueType]).toEqual(["auto", "quorum"]);
  });
});

describe("planWork options", () => {
  test("the whole plan for plain flags", () => {
    expect(planWork([], { ...base, queue: "jobs", concurrency: 2, dotMs: 1000 }, false)).toEqual({
      target: { urls: [URL], connectTimeoutMs: 5000 },
      queue: "jobs",
      prefetch: 2,
      concurrency: 2,
      dotMs: 1000,
      json: false,
      reportBeforeAck: false,
      command: [],
      retry: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 300_000, maxDeferrals: 20 },
      killAfterMs: 5000,
      stderrTail: 2048,
      labelOutput: false,
      verbose: false,
      queueType: "classic",
      reconnectTimeoutMs: 300_000,
    });
  });

  test.each<[string, Partial<WorkFlags>, string[], RegExp]>([
    ["--timeout without a command", { timeout: 1000 }, [], /--timeout needs a COMMAND/],
    ["--timeout 0", { timeout: 0 }, ["sh"], /--timeout must be above 0/],
    ["--retry-delay 0", { retryDelay: 0 }, [], /--retry-delay must be above 0/],
    [
      "max delay below base",
      { retryDelay: 5000, retryMaxDelay: 1000 },
      [],
      /--retry-max-delay must be at least --retry-delay/,
    ],
    [
      "max delay past taskq's longest retry delay",
      { retryMaxDelay: 2 ** 32 },
      [],
      /--retry-max-delay can be at most 4294967295ms/,
    ],
    ["--report-before-ack without --json", { reportBeforeAck: true }, [], /--report-before-ack needs --json/],
    ["--stderr-tail without a command", { stderrTail: 0 }, [], /--stderr-tail needs a COMMAND/],
    ["--label-output without a command", { labelOutput: true }, [], /--label-output needs a COMMAND/],
  ])("rejects %s", (_label, flags, command, pattern) => {
    expect(expectUsageError(() => planWork(command, { ...base, ...flags }, false)).message).toMatch(pattern);
  });

  test("--timeout and retry flags are carried over", () => {
    const plan = planWork(
      ["sh"],
      {
        ...base,
        timeout: 2500,
        killAfter: 100,
        maxAttempts: 3,
        maxDeferrals: 7,
        maxRedeliveries: 2,
        retryDelay: 50,
        retryMaxDelay: 400,
      },
      false,
    );
    expect(plan.timeoutMs).toBe(2500);
    expect(plan.killAfterMs).toBe(100);
    expect(plan.retry).toEqual({
      maxAttempts: 3,
      baseDelayMs: 50,
      maxDelayMs: 400,
      maxDeferrals: 7,
      maxRedeliveries: 2,
    });
  });

  test("--max-tasks, --idle-exit, --json and --report-before-ack are carried over", () => {
    const plan = planWork([], { ...base, maxTasks: 10, idleExit: 5000, json: true, reportBeforeAck: true }, false);
    expect(plan.maxTasks).toBe(10);
    expect(plan.idleExitMs).toBe(5000);
    expect(plan.json).toBe(true);
    expect(plan.reportBeforeAck).toBe(true);
  });

  test("unset --max-tasks and --idle-exit are absent, not undefined", () => {
    const plan = planWork([], base, false);
    expect("maxTasks" in plan).toBe(false);
    expect("idleExitMs" in plan).toBe(false);
  });
});

describe("jsonLine", () => {
  const task = (messageId: string | undefined) => ({ messageId, attempt: 2 }) as unknown as Task;
  type Finish = Extract<WorkerEvent, { type: "finish" }>;
  const finish = (over: Partial<Finish>): Finish => ({
    type: "finish",
    task: task("a-1"),
    outcome: { ok: true },
    settled: "acked",
    startedAt: 1795964480115.6555,
    at: 1795964480117.5771,
    ...over,
  });
  test.each<[string, Finish]>([
    ["done", finish({})],
    ["no message id", finish({ task: task(undefined) })],
    ["an id to escape", finish({ task: task('a "quoted"\\ id\n\u2028') })],
    [
      "dead, with reason and error",
      finish({
        outcome: { ok: false, reason: 'command exited with code 3 "x"' },
        settled: "dead",
        error: "too many attempts\t(5)",
      }),
    ],
    ["lost, error only", finish({ settled: "lost", error: "the connection is gone" })],
    ["whole milliseconds", finish({ startedAt: 1000, at: 1002 })],
  ])("%s: the same as JSON.stringify of the object", (_name, event) => {
    const expected = JSON.stringify({
      id: event.task.messageId ?? null,
      attempt: event.task.attempt,
      outcome: event.settled === "acked" ? "done" : event.settled,
      ms: Math.round((event.at - event.startedAt) * 1000) / 1000,
      start: event.startedAt,
      end: event.at,
      pid: process.pid,
      mono: toMono(event.at),
      ...(event.outcome.ok ? {} : { reason: event.outcome.reason }),
      ...(event.error ? { error: event.error } : {}),
    });
    expect(jsonLine(event)).toBe(expected);
    expect(JSON.parse(jsonLine(event))).toEqual(JSON.parse(expected));
  });
});
