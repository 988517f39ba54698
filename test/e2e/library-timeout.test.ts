import { afterAll, describe, expect, test } from "bun:test";
import { type WorkerEvent, send, work } from "taskq";
import { BROKER_URL, drain, trackedQueues } from "../support/broker.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const retry = { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 };

describe("work({ timeoutMs })", () => {
  test("a handler that honours its signal and one that ignores it are both timed out: retried, then dead; the ignoring one keeps its slot until it returns", async () => {
    const queue = tracked.name("lib-timeout", [100]);
    await send({ url: BROKER_URL, queue, tasks: ["honours", "ignores"] });
    const attempts: Record<string, number[]> = { honours: [], ignores: [] };
    const reasons: string[] = [];
    let live = 0; // handlers really running, whatever taskq made of their tasks
    let mostLive = 0;
    let lateResults = 0;
    const onEvent = (e: WorkerEvent) => {
      if (e.type === "finish" && !e.outcome.ok) reasons.push(e.outcome.reason);
    };
    const worker = await work(
      { url: BROKER_URL, queue, concurrency: 1, timeoutMs: 200, idleExitMs: 1000, retry, onEvent },
      async (t, signal) => {
        const body = t.body.toString();
        attempts[body]?.push(t.attempt);
        mostLive = Math.max(mostLive, ++live);
        try {
          if (body === "honours") {
            await new Promise((_, reject) =>
              signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
            );
          } else {
            await Bun.sleep(700); // deaf to the signal: runs on past the deadline
            lateResults++;
          }
        } finally {
          live--;
        }
      },
    );
    const summary = await worker.done;
    expect(attempts).toEqual({ honours: [1, 2], ignores: [1, 2] });
    expect(summary).toMatchObject({ done: 0, retried: 2, failed: 2 });
    expect(reasons).toEqual(Array(4).fill("timed out after 0.2s"));
    expect(lateResults).toBe(2); // it did return, later: ignored
    expect(mostLive).toBe(1); // concurrency 1: the next task waited for the deaf handler to return
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.content.toString()).sort()).toEqual(["honours", "ignores"]);
    expect(dead.map((m) => m.properties.headers?.["x-taskq-reason"])).toEqual([
      "timed out after 0.2s",
      "timed out after 0.2s",
    ]);
  }, 30_000);

  test("the signal's reason is a TimeoutError; a handler done in time is acked as usual", async () => {
    const queue = tracked.name("lib-timeout-ok", [100]);
    await send({ url: BROKER_URL, queue, tasks: ["quick", "slow"] });
    const reasons: unknown[] = [];
    const worker = await work(
      { url: BROKER_URL, queue, timeoutMs: 300, idleExitMs: 800, retry: { ...retry, maxAttempts: 1 } },
      async (t, signal) => {
        if (t.body.toString() === "quick") return;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        reasons.push(signal.reason);
      },
    );
    expect(await worker.done).toMatchObject({ done: 1, failed: 1 });
    expect(reasons.map((r) => [(r as DOMException).name, (r as DOMException).message])).toEqual([
      ["TimeoutError", "timed out after 0.3s"],
    ]);
  }, 30_000);

  test.each([0, -1, 1.5, Number.NaN, 2 ** 31])("timeoutMs %p is refused before connecting", async (timeoutMs) => {
    await expect(work({ url: BROKER_URL, timeoutMs }, async () => {})).rejects.toThrow(
      "timeoutMs must be whole milliseconds from 1",
    );
  });
});
