import { describe, expect, test } from "bun:test";
import { type Task, TaskqError, send } from "taskq";
import { encodeTasks } from "../../../src/library/encode.ts";
import { outcomeOf } from "../../../src/library/handler.ts";
import { expectUsageError } from "../usage-error.ts";

const signal = new AbortController().signal;
const task = {} as Task;

describe("library edges a JavaScript caller meets", () => {
  test("tasks as one string or one Buffer is refused before anything connects (it would be one task per character or byte)", () => {
    for (const tasks of ["hello", Buffer.from("hi"), new Uint8Array([1, 2])]) {
      expect(expectUsageError(() => encodeTasks(tasks as never)).message).toContain("tasks: [");
    }
  });

  test("a list of strings or Buffers is still one task each", async () => {
    const out: unknown[] = [];
    for await (const t of encodeTasks(["ab", Buffer.from("cd")])) out.push(t);
    expect(out.map((b) => (b as Buffer).toString())).toEqual(["ab", "cd"]);
  });

  test("a handler's returned value that is not an Outcome (a row, a string, a Response-like without ok) counts as done", async () => {
    for (const value of [{ id: 7 }, "sent", 42, true, [], { ok: 1 }]) {
      expect(await outcomeOf(async () => value as never)(task, signal)).toEqual({ ok: true });
    }
  });

  test("an Outcome is kept; { ok: false } without a reason still fails, with a reason said", async () => {
    expect(await outcomeOf(async () => ({ ok: false, reason: "no", exitCode: 3 }))(task, signal)).toEqual({
      ok: false,
      reason: "no",
      exitCode: 3,
    });
    expect(await outcomeOf(async () => ({ ok: true }))(task, signal)).toEqual({ ok: true });
    const failed = await outcomeOf(async () => ({ ok: false }) as never)(task, signal);
    expect(failed).toEqual({ ok: false, reason: "handler returned { ok: false } without a reason" });
  });

  test("send's own delayMs is checked as a task()'s is, before anything connects (1.5 failed as a queue 'with other settings', -5 went at once, 2^33 was taken)", async () => {
    for (const delayMs of [1.5, -5, 2 ** 33, "1000"]) {
      const error = await send({
        url: "amqp://127.0.0.1:1",
        connectTimeoutMs: 200,
        delayMs: delayMs as number,
        tasks: ["x"],
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(TaskqError);
      expect((error as TaskqError).message).toContain("delayMs must be whole milliseconds");
    }
  });
});
