import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HANDLER_EXIT, TaskqError, send, work } from "taskq";
import { BROKER_PORT, BROKER_URL, drain, readyCount, trackedQueues } from "../support/broker.ts";
import { DropProxy } from "../support/proxy.ts";
import { missingSent } from "../support/taskq.ts";

const tracked = trackedQueues();
const q = (label: string) => tracked.name(label, [100]);
afterAll(() => tracked.deleteAll());

describe('import { send, work } from "taskq"', () => {
  test("send through a flapping network (connections cut every 15 ms for a while, also mid-setup): finishes, every task once or more", async () => {
    const queue = q("lib-flap");
    const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 5);
    await proxy.start();
    let flapping: ReturnType<typeof setInterval> | undefined;
    const total = 3000;
    async function* tasks() {
      for (let i = 1; i <= total; i++) {
        if (i % 200 === 0) await Bun.sleep(5); // spreads the send over time, so the flapping lands in it
        if (i === 1000) proxy.drop(); // the first cut, mid-send: the rest flap from the disconnect on
        yield Buffer.from(`task ${i}`);
      }
    }
    try {
      const result = await send({
        url: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
        queue,
        tasks: tasks(),
        onEvent: (event) => {
          if (event.type !== "disconnected" || flapping) return;
          const until = Date.now() + 400;
          flapping = setInterval(() => (Date.now() > until ? clearInterval(flapping) : proxy.drop()), 15);
        },
      });
      expect(result.sent).toBe(total);
      expect(result.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(flapping);
      proxy.stop();
    }
    // Every task sent is in the queue (once or more): none lost.
    const bodies = new Set((await drain(queue)).map((m) => m.content.toString()));
    expect(Array.from({ length: total }, (_, i) => `task ${i + 1}`).filter((b) => !bodies.has(b))).toEqual([]);
  }, 60_000);

  test("send across a dropped connection, every task the same Buffer: each one still arrives (known by message id, not body)", async () => {
    const queue = q("lib-same-buffer");
    const proxy = new DropProxy();
    await proxy.start();
    const total = 6000;
    const body = Buffer.from("the same bytes every time");
    function* tasks() {
      for (let i = 1; i <= total; i++) {
        if (i === 2500) proxy.drop(); // mid-send, with tasks unconfirmed and one in hand
        yield body;
      }
    }
    try {
      const result = await send({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, queue, tasks: tasks() });
      expect(result.reconnects).toBeGreaterThanOrEqual(1);
      expect(result.sent).toBe(total);
    } finally {
      proxy.stop();
    }
    const ids = (await drain(queue)).map((m) => String(m.properties.messageId));
    expect(missingSent(ids, total)).toEqual([]); // each sent id arrived: none lost
  }, 60_000);

  test("send confirms every task; an in-process handler works them all with concurrency", async () => {
    const queue = q("lib-basic");
    const result = await send({ url: BROKER_URL, queue, tasks: Array.from({ length: 20 }, (_, i) => `job ${i + 1}`) });
    expect(result.sent).toBe(20);
    const bodies: string[] = [];
    let running = 0;
    let most = 0;
    const worker = await work({ url: BROKER_URL, queue, concurrency: 4, maxTasks: 20 }, async (task) => {
      running++;
      most = Math.max(most, running);
      await Bun.sleep(20);
      bodies.push(task.body.toString());
      running--;
    });
    const summary = await worker.done;
    expect(summary.done).toBe(20);
    expect(bodies.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `job ${i + 1}`).sort());
    expect(most).toBe(4);
    expect(await readyCount(queue)).toBe(0);
  });

  test("a thrown error is retried; an Outcome with HANDLER_EXIT.noRetry goes dead at once", async () => {
    const queue = q("lib-fail");
    await send({ url: BROKER_URL, queue, tasks: ["flaky", "poison"] });
    const attempts: Record<string, number[]> = { flaky: [], poison: [] };
    const worker = await work(
      { url: BROKER_URL, queue, idleExitMs: 1000, retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 100 } },
      async (task) => {
        const body = task.body.toString();
        attempts[body]?.push(task.attempt);
        if (body === "poison") return { ok: false, reason: "bad input", exitCode: HANDLER_EXIT.noRetry };
        if (task.attempt === 1) throw new Error("not yet");
      },
    );
    const summary = await worker.done;
    expect(attempts).toEqual({ flaky: [1, 2], poison: [1] });
    expect(summary).toMatchObject({ done: 1, retried: 1, failed: 1 });
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.content.toString())).toEqual(["poison"]);
    expect(dead[0]?.properties.headers?.["x-taskq-reason"]).toBe("bad input");
  });

  test("an unreachable broker rejects with a TaskqError (exit code 3) in bounded time", async () => {
    const started = Date.now();
    const error = await send({ url: "amqp://guest:guest@127.0.0.1:1", connectTimeoutMs: 500, tasks: ["x"] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TaskqError);
    expect((error as TaskqError).exitCode).toBe(3);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("examples/in-process.ts runs as documented", async () => {
    const queue = q("lib-example");
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "..", "..", "examples", "in-process.ts")], {
      env: { ...process.env, TASKQ_URL: BROKER_URL, EXAMPLE_QUEUE: queue },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("done: flaky 3.png (attempt 2)");
    expect(out.trim().split("\n").pop()).toBe("summary: 5 done, 1 retried, 0 dead");
  });
});
