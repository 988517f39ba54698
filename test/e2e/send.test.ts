import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  deleteQueues,
  drain,
  rabbitmqctlSync,
  trackedQueues,
  uniqueQueue,
  waitFor,
  withChannel,
} from "../support/broker.ts";
import { runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
const q = (label: string) => tracked.name(label);
afterAll(() => tracked.deleteAll());

describe("taskq send", () => {
  test("each MESSAGE is one persistent task with a message id and timestamp", async () => {
    const queue = q("send-args");
    const r = await runTaskq(["send", "-q", queue, "first.", "second.."]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^sent 2 task\\(s\\) to '${queue.replaceAll(".", "\\.")}' in .* tasks/s\\), all confirmed\\n$`),
    );
    const msgs = await drain(queue);
    expect(msgs.map((m) => m.content.toString())).toEqual(["first.", "second.."]);
    for (const m of msgs) {
      expect(m.properties.deliveryMode).toBe(2);
      expect(typeof m.properties.messageId).toBe("string");
      expect(Math.abs(Number(m.properties.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    }
    expect(new Set(msgs.map((m) => m.properties.messageId)).size).toBe(2);
  });

  test("--count renders the template with {i}; --transient uses delivery mode 1", async () => {
    const queue = q("send-count");
    const r = await runTaskq(["send", "-q", queue, "--count", "5", "--transient", "job {i} of 5"]);
    expect(r.code).toBe(0);
    const msgs = await drain(queue);
    expect(msgs.map((m) => m.content.toString())).toEqual([1, 2, 3, 4, 5].map((i) => `job ${i} of 5`));
    expect(msgs.every((m) => m.properties.deliveryMode === 1)).toBe(true);
  });

  test("--file sends one task per line, bytes untouched (non-UTF-8, CRLF), stdin with '-'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskq-send-"));
    const file = join(dir, "tasks.txt");
    const raw = Buffer.concat([
      Buffer.from("alpha\r\n"),
      Buffer.from([0xff, 0xfe, 0x41, 0x0a]),
      Buffer.from("\n"),
      Buffer.from("omega"),
    ]);
    writeFileSync(file, raw);
    const queue = q("send-file");
    const r = await runTaskq(["send", "-q", queue, "--file", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("sent 3 task(s)");
    expect(r.stdout).toContain("1 blank line(s) skipped");
    const msgs = await drain(queue);
    expect(msgs.map((m) => m.content)).toEqual([
      Buffer.from("alpha"),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from("omega"),
    ]);

    const viaStdin = await runTaskq(["send", "-q", queue, "--file", "-", "--json"], { stdin: "x\ny\n" });
    expect(viaStdin.code).toBe(0);
    expect(JSON.parse(viaStdin.stdout)).toMatchObject({ sent: 2, queue, persistent: true });
    expect((await drain(queue)).map((m) => m.content.toString())).toEqual(["x", "y"]);
  });

  test("shares the tutorial's queue declaration (durable, no arguments) both ways", async () => {
    const queue = q("send-interop");
    // What the tutorial's sender and worker do: queue_declare(durable=True).
    await withChannel((ch) => ch.assertQueue(queue, { durable: true }));
    expect((await runTaskq(["send", "-q", queue, "hello"])).code).toBe(0);
    await withChannel(async (ch) => {
      const ok = await ch.assertQueue(queue, { durable: true });
      expect(ok.messageCount).toBe(1);
    });
  });

  test("--count 20000 is confirmed in full (bounded window)", async () => {
    const queue = q("send-many");
    const r = await runTaskq(["send", "-q", queue, "--count", "20000", "--window", "256", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sent).toBe(20000);
    const count = await withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);
    expect(count).toBe(20000);
  });
});

describe("taskq send against a queue that nacks", () => {
  /** A policy capping `queue` at `max` tasks, refusing (nacking) the ones beyond. */
  function capped(queue: string, max: number): () => void {
    const policy = `taskq-test-cap-${queue}`;
    const ctl = (...args: string[]) => rabbitmqctlSync(...args);
    expect(
      ctl(
        "set_policy",
        policy,
        `^${queue.replace(/\./g, "\\.")}$`,
        JSON.stringify({ "max-length": max, overflow: "reject-publish" }),
        "--apply-to",
        "queues",
      ),
    ).toBe(0);
    return () => void ctl("clear_policy", policy);
  }

  test("a full queue (reject-publish): the nacked tasks are sent again until --reconnect-timeout, then one line and exit 1", async () => {
    const queue = uniqueQueue("send-nack");
    const clear = capped(queue, 2);
    try {
      const started = Date.now();
      const r = await runTaskq(["send", "-q", queue, "--reconnect-timeout", "2s", "a", "b", "c"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/taskq: the broker did not accept task \S+ \(nack\)/);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    } finally {
      clear();
      await deleteQueues([queue]);
    }
  }, 60_000);

  test("a queue that stops nacking (a consumer makes room): send gets every task confirmed, exit 0", async () => {
    const queue = uniqueQueue("send-nack-room");
    const clear = capped(queue, 1);
    try {
      const send = runTaskq(["send", "-q", queue, "--reconnect-timeout", "45s", "--json", "a", "b", "c"], {
        timeoutMs: 60_000,
      });
      const taken: string[] = [];
      await waitFor(
        async () => {
          for (const m of await drain(queue).catch(() => [])) taken.push(m.content.toString()); // not declared yet: nothing
          return new Set(taken).size >= 3; // at-least-once: a task may come twice, none may be missing
        },
        30_000,
        "all three tasks through the full queue",
      );
      const r = await send;
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).sent).toBe(3);
      expect([...new Set(taken)].sort()).toEqual(["a", "b", "c"]);
    } finally {
      clear();
      await deleteQueues([queue]);
    }
  }, 60_000);
});
