import { describe, expect, test } from "bun:test";
import { type SendPlan, planSend } from "../../../src/commands/send.ts";
import { expectUsageError } from "../usage-error.ts";

type SendFlags = Parameters<typeof planSend>[1];
const URL = "amqp://u:p@broker.test:5672/v";
const base: SendFlags = { url: URL, connectTimeout: 5000, queue: "task_queue", window: 1024 };

describe("planSend conflicts", () => {
  test.each<[string, string[], Partial<SendFlags>, string]>([
    ["--file with a MESSAGE", ["hello"], { file: "tasks.txt" }, "--file cannot be combined"],
    ["--file with several MESSAGEs", ["a", "b"], { file: "-" }, "--file cannot be combined"],
    ["--file with --count", [], { file: "tasks.txt", count: 3 }, "--file cannot be combined"],
    ["--file with --count 0", [], { file: "tasks.txt", count: 0 }, "--file cannot be combined"],
    ["--count with two MESSAGEs", ["a {i}", "b {i}"], { count: 2 }, "--count takes one MESSAGE template"],
    ["an empty MESSAGE", [""], {}, "cannot be empty"],
    ["an empty MESSAGE among others", ["a", "", "b"], {}, "cannot be empty"],
    ["an empty template with --count", [""], { count: 2 }, "cannot be empty"],
  ])("rejects %s", (_name, messages, flags, hint) => {
    const error = expectUsageError(() => planSend(messages, { ...base, ...flags }));
    expect(error.message).toContain(hint);
  });
});

describe("planSend plans", () => {
  test.each<[string, string[], Partial<SendFlags>, SendPlan["source"]]>([
    ["no MESSAGE sends the tutorial's body", [], {}, { kind: "messages", messages: ["Hello World!"] }],
    ["one MESSAGE", ["hi"], {}, { kind: "messages", messages: ["hi"] }],
    ["several MESSAGEs keep their order", ["a", "b", "c"], {}, { kind: "messages", messages: ["a", "b", "c"] }],
    [
      "--count without MESSAGE uses the default template",
      [],
      { count: 5 },
      { kind: "count", template: "task {i}", count: 5 },
    ],
    ["--count with a template", ["job {i}"], { count: 3 }, { kind: "count", template: "job {i}", count: 3 }],
    ["--count 0", [], { count: 0 }, { kind: "count", template: "task {i}", count: 0 }],
    ["--file", [], { file: "tasks.txt" }, { kind: "file", path: "tasks.txt" }],
    ["--file - (standard input)", [], { file: "-" }, { kind: "file", path: "-" }],
  ])("%s", (_name, messages, flags, source) => {
    expect(planSend(messages, { ...base, ...flags }).source).toEqual(source);
  });

  test.each<[string, Partial<SendFlags>, boolean]>([
    ["persistent by default", {}, true],
    ["persistent with --transient false", { transient: false }, true],
    ["transient with --transient", { transient: true }, false],
  ])("%s", (_name, flags, persistent) => {
    expect(planSend(["x"], { ...base, ...flags }).persistent).toBe(persistent);
  });

  test.each([
    ["no --delay: at once", undefined, 0],
    ["--delay 10m", 600_000, 600_000],
  ])("%s", (_name, delay, delayMs) => {
    expect(planSend(["x"], { ...base, ...(delay === undefined ? {} : { delay }) }).delayMs).toBe(delayMs);
  });

  test("copies url, queue, window and json through", () => {
    expect(planSend(["x"], { ...base, queue: "jobs", window: 7, json: true })).toEqual({
      target: { urls: [URL], connectTimeoutMs: 5000 },
      queue: "jobs",
      persistent: true,
      window: 7,
      json: true,
      quiet: false,
      queueType: "classic",
      reconnectTimeoutMs: 60_000,
      delayMs: 0,
      source: { kind: "messages", messages: ["x"] },
    });
  });

  test("--queue-type and --reconnect-timeout are carried over", () => {
    const plan = planSend(["x"], { ...base, queueType: "quorum", reconnectTimeout: 1234 });
    expect(plan.queueType).toBe("quorum");
    expect(plan.reconnectTimeoutMs).toBe(1234);
  });

  test("json is false unless asked for", () => {
    expect(planSend(["x"], base).json).toBe(false);
  });
});
