import { describe, expect, test } from "bun:test";
import { type Task, task } from "taskq";
import { AMQPLIB_TABLE_BYTES, tableBytes } from "../../../src/core/failures/header-bytes.ts";
import { outcomeOf } from "../../../src/library/handler.ts";
import { MAX_TASK_HEADERS_BYTES } from "../../../src/library/task-spec.ts";
import { expectUsageError } from "../usage-error.ts";

// amqplib sends at most 64 KiB of headers; task() keeps 4 KiB of it for taskq's own on the copies.

describe("task(data, { headers }): what amqplib can send, with room for taskq's copies", () => {
  const sized = (bytes: number) => ({ big: "b".repeat(bytes - tableBytes({ big: "" })) });

  test("headers of exactly MAX_TASK_HEADERS_BYTES (60 KiB) are taken", () => {
    expect(MAX_TASK_HEADERS_BYTES).toBe(AMQPLIB_TABLE_BYTES - 4096);
    expect(tableBytes(sized(MAX_TASK_HEADERS_BYTES))).toBe(MAX_TASK_HEADERS_BYTES);
    expect(() => task("x", { headers: sized(MAX_TASK_HEADERS_BYTES) })).not.toThrow();
  });

  test.each<[string, Record<string, string | number | boolean>, RegExp]>([
    ["one byte more", sized(MAX_TASK_HEADERS_BYTES + 1), /task headers take 61,441 bytes encoded, more than 61,440/],
    [
      "many small ones adding up",
      Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`h${i}`, "v".repeat(20)])),
      /task headers take [\d,]+ bytes encoded/,
    ],
    ["NaN, which amqplib cannot encode", { n: Number.NaN }, /task header 'n' must be a finite number, got NaN/],
    ["a name over 255 bytes", { ["k".repeat(300)]: 1 }, /longer than AMQP's 255 bytes/],
  ])("refused at once: %s", (_name, headers, message) => {
    expect(expectUsageError(() => task("x", { headers })).message).toMatch(message);
  });
});

describe("a library handler's failed Outcome: only fields a copy's headers can carry", () => {
  const delivered = { body: Buffer.from("x"), queue: "q", attempt: 1, deferrals: 0, headers: {} } as unknown as Task;
  const run = (value: unknown) => outcomeOf(async () => value as never)(delivered, new AbortController().signal);

  test.each<[string, unknown, object]>([
    [
      "kept as it is when well typed",
      { ok: false, reason: "no", exitCode: 3, signal: "SIGTERM", stderr: "trace" },
      { ok: false, reason: "no", exitCode: 3, signal: "SIGTERM", stderr: "trace" },
    ],
    [
      "nulls kept",
      { ok: false, reason: "no", exitCode: null, signal: null },
      { ok: false, reason: "no", exitCode: null, signal: null },
    ],
    [
      "a NaN exit code (amqplib cannot encode it) left out",
      { ok: false, reason: "no", exitCode: Number.NaN },
      { ok: false, reason: "no" },
    ],
    [
      "a signal or stderr that is no text left out",
      { ok: false, reason: "no", signal: 15, stderr: { lines: [] } },
      { ok: false, reason: "no" },
    ],
  ])("%s", async (_name, value, expected) => {
    expect(await run(value)).toEqual(expected as never);
  });
});
