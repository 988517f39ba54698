import { afterAll, beforeAll, expect, test } from "bun:test";
import { brokerCounts, drain, uniqueQueue, waitFor } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

// A memory alarm blocks every connection that publishes; RabbitMQ then reads nothing more from it.
// Copies go out on a connection of their own, so acks on the consuming one keep flowing.
const node = new IsolatedNode("alarm", freePort(41));
const { raiseMemoryAlarm: raise, clearMemoryAlarm: clear, memoryAlarmOn: alarmOn } = node;

beforeAll(() => node.start(), 120_000);
afterAll(async () => {
  await clear().catch(() => "");
  await node.wipe();
}, 60_000);

test("one failing task during a memory alarm: the 20 good ones are all acked, the copy waits (said once), and goes out when it clears", async () => {
  const env = { TASKQ_URL: node.url };
  const queue = uniqueQueue("alarm");
  const h = new TestHandler();
  const bodies = ["fail during the alarm", ...Array.from({ length: 20 }, (_, i) => `good ${i}`)];
  expect((await runTaskq(["send", "-q", queue, ...bodies], { env })).code).toBe(0);
  await raise();
  let worker: TaskqProcess | undefined;
  try {
    await waitFor(alarmOn, 20_000, "the memory alarm");
    worker = new TaskqProcess(["work", "-q", queue, "--concurrency", "4", "--retry-delay", "200ms", ...h.command], {
      ...env,
      WORKER: "w",
    });
    await worker.ready();
    await waitFor(() => h.lines().length === 21, 30_000, "all 21 commands to run");
    // Every good task acked while the alarm is on; only the failing one is held, waiting for its copy.
    await waitFor(
      async () => {
        const c = await brokerCounts(queue, node.nodeName);
        return c.ready === 0 && c.unacked === 1;
      },
      15_000,
      "20 acks during the alarm",
    );
    await waitFor(
      () => /copies wait until the alarm clears/.test(worker?.stderr ?? ""),
      10_000,
      "the worker to say copies wait",
    );
    expect(worker.stderr.match(/copies wait until the alarm clears/g)).toHaveLength(1);
    await clear();
    // The retry copy goes out, the original is acked, and the retried task runs (and fails again, then again...).
    await waitFor(
      () => h.lines().filter((l) => l.body.startsWith("fail")).length >= 2,
      30_000,
      "the retried task to run after the alarm",
    );
    expect(h.lines().filter((l) => l.body.startsWith("good"))).toHaveLength(20); // none ran twice
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  } finally {
    worker?.kill("SIGKILL");
    await clear();
  }
}, 240_000);

test("a graceful stop during an alarm finishes: the held task goes back to the queue, not lost", async () => {
  const env = { TASKQ_URL: node.url };
  const queue = uniqueQueue("alarm-stop");
  const h = new TestHandler();
  expect((await runTaskq(["send", "-q", queue, "fail while blocked", "good"], { env })).code).toBe(0);
  await raise();
  let worker: TaskqProcess | undefined;
  try {
    await waitFor(alarmOn, 20_000, "the memory alarm");
    worker = new TaskqProcess(["work", "-q", queue, "--concurrency", "2", ...h.command], { ...env, WORKER: "w" });
    await worker.ready();
    await waitFor(
      () => /copies wait until the alarm clears/.test(worker?.stderr ?? ""),
      20_000,
      "the copy to wait for the alarm",
    );
    await waitFor(
      async () => {
        const c = await brokerCounts(queue, node.nodeName);
        return c.ready === 0 && c.unacked === 1; // the good task acked, the failing one held
      },
      30_000,
      "the good task's ack",
    );
    worker.kill("SIGTERM");
    const second = setTimeout(() => worker?.kill("SIGINT"), 3000); // a second signal gives up on the copy at once
    expect(await worker.exited).toBe(130);
    clearTimeout(second);
    await clear();
    // The failing task is back (requeued; and, if the broker had already read its copy before
    // blocking, that copy too, after its retry delay): at least once, never lost; the good one is done.
    await waitFor(
      async () => (await brokerCounts(queue, node.nodeName)).ready >= 1,
      15_000,
      "the held task back in the queue",
    );
    const bodies = (await drain(queue, node.url)).map((m) => m.content.toString());
    expect(bodies).toContain("fail while blocked");
    expect(bodies).not.toContain("good");
  } finally {
    worker?.kill("SIGKILL");
    await clear();
  }
}, 240_000);
