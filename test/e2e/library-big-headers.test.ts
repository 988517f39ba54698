import { afterAll, describe, expect, test } from "bun:test";
import { type WorkerEvent, type WorkerHandle, send, task, work } from "taskq";
import amqp from "amqplib";
import { BROKER_URL, drain, readyCount, trackedQueues } from "../support/broker.ts";

// amqplib encodes a message's headers into a 65,536-byte buffer: a copy (retry, dead) whose
// headers do not fit can never be published. Each task here must still end in its retry or dead
// queue, within seconds, never stuck in a worker retrying its copy for ever.

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const STUCK_AFTER_MS = 12_000;
const retry = { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 };

/** Runs the worker until it stops by itself (idle), or says "stuck" and stops it. */
async function runToIdle(worker: WorkerHandle): Promise<"idle" | "stuck"> {
  const outcome = await Promise.race([
    worker.done.then(() => "idle" as const),
    Bun.sleep(STUCK_AFTER_MS).then(() => "stuck" as const),
  ]);
  if (outcome === "stuck") {
    worker.stop();
    await worker.done.catch(() => {});
  }
  return outcome;
}

/** Publishes as another client would (amqplib itself, confirmed), into a queue declared the tutorial's way. */
async function publishForeign(queue: string, body: Buffer, headers: Record<string, unknown>): Promise<void> {
  const conn = await amqp.connect(BROKER_URL);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    ch.sendToQueue(queue, body, { persistent: true, headers });
    await ch.waitForConfirms();
  } finally {
    await conn.close().catch(() => {});
  }
}

const copyFailures = (events: WorkerEvent[]) => events.flatMap((e) => (e.type === "copy-failed" ? [e.error] : []));

describe("a library worker whose copies would not fit amqplib's 64 KiB of headers", () => {
  test("a handler error of 200 KB: the task ends in <queue>.dead within seconds, its reason cut with the cut said", async () => {
    const queue = tracked.name("lib-big-error", [100]);
    await send({ url: BROKER_URL, queue, tasks: ["big"] });
    const events: WorkerEvent[] = [];
    const started = Date.now();
    const worker = await work(
      { url: BROKER_URL, queue, idleExitMs: 1000, retry, onEvent: (e) => events.push(e) },
      async () => {
        throw new Error(`x${"y".repeat(200_000)}`);
      },
    );
    expect(await runToIdle(worker)).toBe("idle");
    expect(copyFailures(events)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(8000);
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.content.toString())).toEqual(["big"]);
    const reason = String(dead[0]?.properties.headers?.["x-taskq-reason"]);
    expect(reason).toStartWith("xyyy");
    expect(reason).toMatch(/… \[cut: [\d,]+ bytes more\]$/);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(4096);
    expect(await readyCount(queue)).toBe(0);
  }, 40_000);

  test("a task sent with ~60 KB of its own headers that fails with an 8 KB error: retried, then dead, its headers whole", async () => {
    const queue = tracked.name("lib-big-own", [100]);
    const big = "b".repeat(60_000);
    await send({ url: BROKER_URL, queue, tasks: [task("payload", { headers: { big, tenant: "a" } })] });
    const events: WorkerEvent[] = [];
    const attempts: number[] = [];
    const worker = await work(
      { url: BROKER_URL, queue, idleExitMs: 1000, retry, onEvent: (e) => events.push(e) },
      async (t) => {
        attempts.push(t.attempt);
        throw new Error("e".repeat(8000));
      },
    );
    expect(await runToIdle(worker)).toBe("idle");
    expect(copyFailures(events)).toEqual([]);
    expect(attempts).toEqual([1, 2]);
    const [dead] = await drain(`${queue}.dead`);
    expect(dead?.properties.headers).toMatchObject({ big, tenant: "a", "x-taskq-attempts": 2 });
  }, 40_000);

  test("a task published by another client with a 65,500-byte header that fails: dead without that header, said in x-taskq-dropped", async () => {
    const queue = tracked.name("lib-foreign-own", [100]);
    await publishForeign(queue, Buffer.from("foreign"), { big: "b".repeat(65_500), tenant: "a" });
    expect(await readyCount(queue)).toBe(1);
    const events: WorkerEvent[] = [];
    const worker = await work(
      { url: BROKER_URL, queue, idleExitMs: 1000, retry: { ...retry, maxAttempts: 1 }, onEvent: (e) => events.push(e) },
      async () => {
        throw new Error("boom");
      },
    );
    expect(await runToIdle(worker)).toBe("idle");
    expect(copyFailures(events)).toEqual([]);
    const [dead] = await drain(`${queue}.dead`);
    expect(dead?.content.toString()).toBe("foreign");
    const headers = dead?.properties.headers ?? {};
    expect(headers).not.toHaveProperty("big");
    expect(headers).toMatchObject({ tenant: "a", "x-taskq-reason": "boom" });
    expect(String(headers["x-taskq-dropped"])).toContain("big (65,5");
  }, 40_000);
});
