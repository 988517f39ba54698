import { afterAll, expect, test } from "bun:test";
import { brokerCounts, deleteQueues, uniqueQueue } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const queue = uniqueQueue("chaos");
afterAll(() => deleteQueues([queue, `${queue}.dead`]));

test(
  "1. chaos: SIGKILL a random worker every 0.5 s and start another; every task done, duplicates <= kills x prefetch",
  async () => {
    const TASKS = 5000;
    const PREFETCH = 1;
    const h = new TestHandler();
    const start = () => new TaskqProcess(["work", "-q", queue, "--prefetch", String(PREFETCH), ...h.command], { WORKER: "w" });
    const workers = [start(), start(), start(), start()];
    await Promise.all(workers.map((w) => w.ready()));
    expect((await runTaskq(["send", "-q", queue, "--count", String(TASKS), "chaos {i}"])).code).toBe(0);
    let kills = 0;
    const deadline = Date.now() + 180_000;
    const done = () => new Set(h.lines().map((l) => l.body)).size;
    while (done() < TASKS) {
      if (Date.now() > deadline) throw new Error(`only ${done()} of ${TASKS} done`);
      await Bun.sleep(500);
      const i = Math.floor(Math.random() * workers.length);
      (workers[i] as TaskqProcess).kill("SIGKILL");
      kills++;
      workers[i] = start();
    }
    const lines = h.lines();
    const bodies = new Set(lines.map((l) => l.body));
    for (let i = 1; i <= TASKS; i++) expect(bodies.has(`chaos ${i}`)).toBe(true);
    const duplicates = lines.length - bodies.size;
    console.log(`chaos: ${TASKS} tasks, ${kills} kills, ${duplicates} duplicates`);
    expect(kills).toBeGreaterThan(3);
    expect(duplicates).toBeLessThanOrEqual(kills * PREFETCH);
    for (const w of workers) w.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });
  },
  240_000,
);
