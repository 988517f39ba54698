import { afterAll, expect, test } from "bun:test";
import { brokerCounts, deleteQueues, readyCount, uniqueQueue, waitFor } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const queue = uniqueQueue("chaos");
afterAll(() => deleteQueues([queue, `${queue}.dead`]));

test("1. chaos: SIGKILL a random worker every 0.5 s and start another; every task done, duplicates <= kills x prefetch", async () => {
  const TASKS = 3000;
  const PREFETCH = 1;
  const h = new TestHandler();
  const start = () =>
    new TaskqProcess(["work", "-q", queue, "--prefetch", String(PREFETCH), ...h.command], { WORKER: "w" });
  const workers = [start(), start(), start(), start()];
  await Promise.all(workers.map((w) => w.ready()));
  expect((await runTaskq(["send", "-q", queue, "--count", String(TASKS), "chaos {i}"])).code).toBe(0);
  let kills = 0;
  const deadline = Date.now() + 180_000;
  const done = () => new Set(h.finished().map((l) => l.body)).size;
  while (done() < TASKS) {
    if (Date.now() > deadline) throw new Error(`only ${done()} of ${TASKS} done`);
    await Bun.sleep(500); // the chaos's pace (a kill every 0.5 s), not a wait for something
    const i = Math.floor(Math.random() * workers.length);
    (workers[i] as TaskqProcess).kill("SIGKILL");
    kills++;
    workers[i] = start();
  }
  // Nothing lost: every task sent was run to its end (exit 0) at least once, not only started.
  const finished = new Set(h.finished().map((l) => l.body));
  const notFinished = Array.from({ length: TASKS }, (_, i) => `chaos ${i + 1}`).filter((b) => !finished.has(b));
  expect(notFinished).toEqual([]);
  const lines = h.lines();
  const duplicates = lines.length - new Set(lines.map((l) => l.body)).size;
  console.log(`chaos: ${TASKS} tasks, ${kills} kills, ${duplicates} duplicates`);
  expect(kills).toBeGreaterThan(3);
  expect(duplicates).toBeLessThanOrEqual(kills * PREFETCH);
  // A task whose worker was killed after its command finished, before the ack, is redelivered:
  // the workers left run it again before they are stopped.
  await waitFor(
    async () => {
      const c = await brokerCounts(queue);
      return c.ready === 0 && c.unacked === 0;
    },
    30_000,
    "every task acked",
  );
  for (const w of workers) w.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
  expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });
  expect(await readyCount(`${queue}.dead`).catch(() => 0)).toBe(0); // none parked as failed (never declared is fine)
}, 240_000);
