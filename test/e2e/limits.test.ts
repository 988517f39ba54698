import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drain, readyCount, trackedQueues, uniqueQueue, withChannel } from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
const q = (label: string) => tracked.name(label);
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "taskq-limits-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await tracked.deleteAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `n` random bytes with no '\n' in them and no '\r' at the end: one line as `--file` reads it. */
function randomLine(n: number): Buffer {
  const line = randomBytes(n);
  for (let i = 0; i < n; i++) if (line[i] === 0x0a) line[i] = 0x0b;
  if (line[n - 1] === 0x0d) line[n - 1] = 0x0c;
  return line;
}

/** A worker command that saves each task's stdin to DIR/<message id>, byte for byte. */
const saveTo = (dir: string) => ["--", "sh", "-c", 'cat > "$0/$TASKQ_MESSAGE_ID"', dir];

/** Bodies the saving worker got, in send order (message ids end in -1, -2, ...). */
function saved(dir: string): Buffer[] {
  const index = (id: string) => Number(id.slice(id.lastIndexOf("-") + 1));
  return readdirSync(dir)
    .sort((a, b) => index(a) - index(b))
    .map((id) => readFileSync(join(dir, id)));
}

describe("big tasks (shared broker)", () => {
  test("a 10 MB line in --file is sent and reaches the broker and the handler intact", async () => {
    const dir = tempDir();
    const big = randomLine(10 * 1024 * 1024);
    const file = join(dir, "tasks.bin");
    writeFileSync(file, Buffer.concat([Buffer.from("before\n"), big, Buffer.from("\r\nafter\n")]));
    const queue = q("limits-10mb");
    const started = Date.now();
    const r = await runTaskq(["send", "-q", queue, "--file", file, "--json"], { timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 3 });

    // Through a worker: the handler's stdin gets every byte.
    const out = join(dir, "out");
    mkdirSync(out);
    const w = await runTaskq(["work", "-q", queue, "--max-tasks", "3", ...saveTo(out)], { timeoutMs: 60_000 });
    expect(w.code).toBe(0);
    const bodies = saved(out);
    expect(bodies.map((b) => b.length)).toEqual([6, big.length, 5]);
    expect(bodies[0]?.toString()).toBe("before");
    expect(bodies[1]?.equals(big)).toBe(true); // not toEqual: a 10 MB diff would drown the report
    expect(bodies[2]?.toString()).toBe("after");
    expect(await readyCount(queue)).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  test("--file with an empty file, only blank lines, or empty stdin: says nothing was sent (stderr) and exits 0", async () => {
    const dir = tempDir();
    const queue = q("limits-empty");
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    const r = await runTaskq(["send", "-q", queue, "--file", empty]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`taskq send: no tasks in '${empty}': nothing sent\n`);
    expect(r.stdout).toMatch(/^sent 0 task\(s\) to '.*' in .*, all confirmed\n$/);
    const json = await runTaskq(["send", "-q", queue, "--file", empty, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ sent: 0, skippedBlankLines: 0 });

    const blank = join(dir, "blank.txt");
    writeFileSync(blank, "\n\r\n\n");
    const b = await runTaskq(["send", "-q", queue, "--file", blank, "--json"]);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ sent: 0, skippedBlankLines: 3 });
    expect(b.stderr).toBe(`taskq send: no tasks in '${blank}' (3 blank line(s) skipped): nothing sent\n`);

    const stdin = await runTaskq(["send", "-q", queue, "--file", "-", "--json"], { stdin: "" });
    expect(stdin.code).toBe(0);
    expect(JSON.parse(stdin.stdout)).toMatchObject({ sent: 0 });
    expect(stdin.stderr).toBe("taskq send: no tasks on stdin: nothing sent\n");
    const quiet = await runTaskq(["send", "-q", queue, "--file", "-", "--quiet"], { stdin: "" });
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, "", ""]);
    expect(await readyCount(queue)).toBe(0);
  }, 30_000);

  test("non-UTF-8 bytes through stdin (--file -) reach the broker and the handler's stdin untouched", async () => {
    // send.test.ts covers non-UTF-8 in a file and ASCII on stdin; this is binary on stdin, end to end.
    const lines = [
      Buffer.from([0xff, 0xfe, 0x00, 0x41]), // BOM-like bytes, a NUL
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]), // invalid UTF-8 sequences
      Buffer.from([0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]), // a surrogate, a code point above U+10FFFF
      Buffer.from("caf\u00e9 \r inner CR kept"),
      Buffer.from([0x80]),
    ];
    const input = Buffer.concat([
      lines[0],
      Buffer.from("\r\n"),
      lines[1],
      Buffer.from("\n"),
      lines[2],
      Buffer.from("\n"),
      lines[3],
      Buffer.from("\n"),
      lines[4],
    ] as Buffer[]);
    const queue = q("limits-binary");
    const r = await runTaskq(["send", "-q", queue, "--file", "-", "--json"], { stdin: input });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: lines.length });
    const msgs = await withChannel(async (ch) => {
      const got: Buffer[] = [];
      for (;;) {
        const m = await ch.get(queue, { noAck: false });
        if (m === false) break;
        got.push(m.content);
      }
      return got; // unacked: back in the queue when the channel closes
    });
    expect(msgs.map((m) => m.toString("hex"))).toEqual(lines.map((l) => l.toString("hex")));

    const out = tempDir();
    const w = await runTaskq(["work", "-q", queue, "--max-tasks", String(lines.length), ...saveTo(out)]);
    expect(w.code).toBe(0);
    expect(saved(out).map((b) => b.toString("hex"))).toEqual(lines.map((l) => l.toString("hex")));
  }, 30_000);
});

describe("a task over the broker's max_message_size (isolated node)", () => {
  const node = new IsolatedNode("limits", freePort(23));
  const env = { TASKQ_URL: node.url };
  beforeAll(async () => {
    await node.start();
    // At runtime, as an operator would on a live node; channels opened from now on see it.
    const proc = Bun.spawn(
      [
        join(import.meta.dir, "..", "..", "scripts", "broker"),
        "ctl",
        node.name,
        "eval",
        "application:set_env(rabbit, max_message_size, 4096).",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect((await new Response(proc.stdout).text()).trim()).toBe("ok");
    expect(await proc.exited).toBe(0);
  }, 90_000);
  afterAll(() => node.wipe(), 90_000);

  test("send of a 10 KB body: exit 1, one line naming the size and the limit; nothing is queued", async () => {
    const queue = uniqueQueue("limits-max");
    const r = await runTaskq(["send", "-q", queue, "x".repeat(10 * 1024)], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    // RabbitMQ 3.10 closes the channel with: 406 PRECONDITION_FAILED - message size 10240 is larger than configured max size 4096
    expect(oneLineError(r.stderr)).toBe(
      "taskq: a task of 10240 bytes is larger than the broker's max message size (4096 bytes): split it, or raise max_message_size",
    );
    expect(await readyCount(queue, node.url)).toBe(0);
  }, 30_000);

  test("the limit is inclusive (4096 bytes pass, 4097 fail); --file and --json fail the same way", async () => {
    const queue = uniqueQueue("limits-edge");
    expect((await runTaskq(["send", "-q", queue, "y".repeat(4096)], { env })).code).toBe(0);
    const over = await runTaskq(["send", "-q", queue, "y".repeat(4097)], { env });
    expect(over.code).toBe(1);
    expect(oneLineError(over.stderr)).toContain(
      "a task of 4097 bytes is larger than the broker's max message size (4096 bytes)",
    );

    const dir = tempDir();
    const file = join(dir, "mixed.txt");
    writeFileSync(file, `small 1\nsmall 2\n${"z".repeat(10_000)}\nsmall 3\n`);
    const viaFile = await runTaskq(["send", "-q", queue, "--file", file, "--json"], { env });
    expect(viaFile.code).toBe(1);
    expect(viaFile.stdout).toBe(""); // no summary: not every task was confirmed
    expect(oneLineError(viaFile.stderr)).toContain(
      "a task of 10000 bytes is larger than the broker's max message size (4096 bytes)",
    );
    // What the broker took before it closed the channel stays queued (the error line does not say so);
    // nothing over the limit, and nothing after it.
    const bodies = (await drain(queue, node.url)).map((m) => m.content.toString());
    expect(bodies).toEqual(["y".repeat(4096), "small 1", "small 2"]);
  }, 30_000);
});
