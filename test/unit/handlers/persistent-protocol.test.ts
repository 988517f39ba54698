import { describe, expect, test } from "bun:test";
import type { Task } from "../../../src/core/task.ts";
import { readLines } from "../../../src/handlers/persistent-lines.ts";
import { handshakeProblem, parseAnswer, taskLine } from "../../../src/handlers/persistent-protocol.ts";

describe("persistent protocol", () => {
  test.each([
    ['{"seq":7,"outcome":"done"}', { ok: true }],
    ['{"outcome":"done","reason":"","seq":7}\r', { ok: true }],
    ['{"seq":7,"outcome":"failed","reason":"db down"}', { ok: false, reason: "db down", exitCode: null }],
    ['{"seq":7,"outcome":"failed"}', { ok: false, reason: "handler answered failed", exitCode: null }],
    ['{"seq":7,"outcome":"dead","reason":"bad input"}', { ok: false, reason: "bad input", exitCode: 65 }],
    ['{"seq":7,"outcome":"later","reason":"busy"}', { ok: false, reason: "busy", exitCode: 75 }],
  ])("answer %s to the task of seq 7", (line, outcome) => {
    expect(parseAnswer(line, 7)).toEqual({ outcome } as never);
  });

  test.each([
    ["hello world", 'handler wrote a line that is not the protocol: "hello world"'],
    [
      '{"seq":7,"outcome":"ok"}',
      'handler answered "{\\"seq\\":7,\\"outcome\\":\\"ok\\"}": "outcome" must be "done", "failed", "dead" or "later"',
    ],
    [
      '{"outcome":"done"}',
      'handler answered "{\\"outcome\\":\\"done\\"}": "seq" must be 7, the seq of the task it answers',
    ],
    [
      '{"seq":6,"outcome":"done"}',
      'handler answered "{\\"seq\\":6,\\"outcome\\":\\"done\\"}": "seq" must be 7, the seq of the task it answers',
    ],
    [
      '{"seq":"7","outcome":"done"}',
      'handler answered "{\\"seq\\":\\"7\\",\\"outcome\\":\\"done\\"}": "seq" must be 7, the seq of the task it answers',
    ],
    ["null", 'handler answered "null": "seq" must be 7, the seq of the task it answers'],
    ["x".repeat(300), `handler wrote a line that is not the protocol: "${"x".repeat(200)}..."`],
  ])("not an answer to the task of seq 7: %s", (line, garbage) => {
    expect(parseAnswer(line, 7)).toEqual({ garbage });
  });

  test.each([
    ["taskq-handler 1", undefined],
    ["taskq-handler 1\r", undefined],
    ["taskq-handler 2", `handler speaks protocol "2"; this taskq speaks 1 (its first line must be 'taskq-handler 1')`],
    ["Loading model...", `handler's first line is not the handshake 'taskq-handler 1': it wrote "Loading model..."`],
  ])("handshake %s", (line, problem) => {
    expect(handshakeProblem(line)).toBe(problem);
  });

  test("a task line: one line of JSON, any body bytes in base64, header byte arrays as text", () => {
    const body = Buffer.from([0, 10, 13, 255, 0x22, 0x5c]);
    const task = {
      body,
      queue: "q",
      messageId: "m-1",
      redelivered: false,
      attempt: 3,
      headers: { "x-user": "ann", "x-bytes": Buffer.from("raw"), "x-n": 7 },
    } as unknown as Task;
    const line = taskLine(task, 4);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    const doc = JSON.parse(line);
    expect(doc).toEqual({
      seq: 4,
      id: "m-1",
      attempt: 3,
      queue: "q",
      redelivered: false,
      headers: { "x-user": "ann", "x-bytes": "raw", "x-n": 7 },
      body: body.toString("base64"),
    });
    expect(Buffer.from(doc.body, "base64").equals(body)).toBe(true);
  });

  test("lines split across chunks, several in a chunk, a line too long, and a last line without its newline", async () => {
    const chunks = ["taskq-hand", 'ler 1\n{"a":1}\n{"b"', ":2}\n", "x".repeat(70_000), "\ntail"];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
    const events: unknown[] = [];
    await readLines(stream, (e) => events.push(e)).ended;
    expect(events.slice(0, 3)).toEqual([{ line: "taskq-handler 1" }, { line: '{"a":1}' }, { line: '{"b":2}' }]);
    expect((events[3] as { tooLong: string }).tooLong).toBe("x".repeat(300));
    expect(events.slice(4)).toEqual([{ line: "" }, { line: "tail" }, { end: true }]);
  });

  test.each([
    ["in one chunk", [`${"y".repeat(70_000)}\nok\n`]],
    ["in two chunks, the first under the limit", ["y".repeat(60_000), `${"y".repeat(10_000)}\nok\n`]],
  ])("a line over 64 KB whose newline is read %s is too long, as one read in many", async (_, chunks) => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
    const events: unknown[] = [];
    await readLines(stream, (e) => events.push(e)).ended;
    expect(events).toEqual([{ tooLong: "y".repeat(300) }, { line: "ok" }, { end: true }]);
  });
});
