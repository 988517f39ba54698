import { describe, expect, expectTypeOf, test } from "bun:test";
import type { Outcome, SendEvent, Task, TaskInput, TaskSpec, WorkerEvent } from "taskq";
import { NotJsonError, task } from "taskq";
import { encodeTask } from "../../../src/library/encode.ts";

// Checked by `tsc --noEmit -p .`: the events are discriminated unions a listener can narrow.
describe("the library's types", () => {
  test("WorkerEvent and SendEvent narrow on `type`", () => {
    expectTypeOf<Extract<WorkerEvent, { type: "finish" }>["outcome"]>().toEqualTypeOf<Outcome>();
    expectTypeOf<Extract<WorkerEvent, { type: "finish" }>["task"]>().toEqualTypeOf<Task>();
    expectTypeOf<Extract<WorkerEvent, { type: "disconnected" }>["running"]>().toEqualTypeOf<number>();
    expectTypeOf<Extract<SendEvent, { type: "disconnected" }>["unconfirmed"]>().toEqualTypeOf<number>();
    expectTypeOf<Extract<SendEvent, { type: "queue-type" }>["queueType"]>().toEqualTypeOf<"classic" | "quorum">();
    // A listener narrows without a cast.
    const said = (e: WorkerEvent) =>
      e.type === "finish" ? `${e.settled}: ${e.outcome.ok ? "ok" : e.outcome.reason}` : e.type;
    expect(
      said({
        type: "finish",
        task: {} as Task,
        outcome: { ok: false, reason: "timed out after 1s" },
        settled: "retry",
        startedAt: 0,
        at: 1,
      }),
    ).toBe("retry: timed out after 1s");
    expectTypeOf<WorkerEvent["type"]>().toEqualTypeOf<
      | "ready"
      | "prefetch"
      | "state"
      | "start"
      | "finish"
      | "came-back"
      | "consumer-timeout"
      | "taken-back"
      | "copy-failed"
      | "blocked"
      | "unblocked"
      | "legacy-queue"
      | "queue-type"
      | "disconnected"
      | "reconnected"
      | "stopping"
      | "closed"
    >();
    expectTypeOf<SendEvent["type"]>().toEqualTypeOf<
      "disconnected" | "reconnected" | "queue-type" | "blocked" | "legacy-queue" | "unblocked"
    >();
  });

  test("task.json<T>() is typed by the caller; task() keeps its data's type", () => {
    expectTypeOf<ReturnType<Task["json"]>>().toEqualTypeOf<unknown>();
    expectTypeOf<Task["json"]>().toBeCallableWith();
    expectTypeOf(task({ userId: 42 })).toEqualTypeOf<TaskSpec<{ userId: number }>>();
    expectTypeOf<{ userId: number }>().toMatchTypeOf<TaskInput>();
    expect(task({ userId: 42 }).data).toEqual({ userId: 42 });
  });
});

describe("encodeTask", () => {
  test.each<[string, TaskInput, string, string | undefined]>([
    ["a string: text, no content type", "héllo", "héllo", undefined],
    ["an object: JSON", { a: 1 }, '{"a":1}', "application/json"],
    ["an array: JSON", [1, "2"], '[1,"2"]', "application/json"],
    ["a number: JSON", 3.5, "3.5", "application/json"],
    ["false: JSON", false, "false", "application/json"],
    ["null: JSON", null, "null", "application/json"],
    ["a Date: JSON (its ISO string)", new Date(0), '"1970-01-01T00:00:00.000Z"', "application/json"],
    ["task() of a string: text", task("x", { id: "i" }), "x", undefined],
  ])("%s", (_, input, body, contentType) => {
    const out = encodeTask(input, 1);
    const encoded = Buffer.isBuffer(out) ? { body: out } : out;
    expect(encoded.body.toString()).toBe(body);
    expect(Buffer.isBuffer(out) ? undefined : out.contentType).toBe(contentType);
  });

  test("a Buffer goes as it is, the same object (no copy)", () => {
    const b = Buffer.from("x");
    expect(encodeTask(b, 1)).toBe(b);
  });

  test("task() carries id, headers and delay; a task() inside a task() is refused", () => {
    expect(encodeTask(task({ a: 1 }, { id: "k", headers: { t: "a" }, delayMs: 5 }), 1)).toMatchObject({
      messageId: "k",
      headers: { t: "a" },
      delayMs: 5,
      contentType: "application/json",
    });
    expect(() => encodeTask(task(task(1)), 4)).toThrow("task 4: a task() inside a task()");
  });

  test("NotJsonError says the body is not JSON", () => {
    expect(new NotJsonError(new SyntaxError("Unexpected token")).message).toBe("body is not JSON: Unexpected token");
  });
});
