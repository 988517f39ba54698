import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { uniqueQueue, waitFor, withChannel } from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { TestHandler } from "../support/handler.ts";
import { DropProxy } from "../support/proxy.ts";
import { TaskqProcess, jsonLines, missingSent, runTaskq } from "../support/taskq.ts";

const node = new IsolatedNode("faults", freePort(2));

/** Message ids every worker reported done (JSON lines on stdout). */
function doneIds(workers: TaskqProcess[]): Set<string> {
  const ids = new Set<string>();
  for (const w of workers) {
    for (const r of jsonLines<{ id: string; outcome: string }>(w.stdout)) if (r.outcome === "done") ids.add(r.id);
  }
  return ids;
}

/**
 * Every one of the `count` tasks one `send` sent (ids `<prefix>-1` .. `<prefix>-<count>`) done,
 * every worker reconnected and drained, the queue empty.
 */
async function expectAllDoneAfterReconnect(workers: TaskqProcess[], queue: string, count: number): Promise<void> {
  // Every 100 ms: each look parses every JSON line so far.
  await waitFor(() => doneIds(workers).size >= count, 90_000, `all ${count} tasks done`, 100);
  expect(missingSent(doneIds(workers), count)).toEqual([]); // each sent id done: loss, not only a count
  // A worker may still be in its backoff when the others have done every task.
  await waitFor(
    () => workers.every((w) => w.stderr.includes("reconnected; consuming again")),
    30_000,
    "every worker to reconnect",
  );
  for (const w of workers) w.kill("SIGTERM");
  const codes = await Promise.all(workers.map((w) => w.exited));
  expect(codes.map((code, i) => (code === 0 ? "exit 0" : `exit ${code}: ${workers[i]?.stderr}`))).toEqual(
    workers.map(() => "exit 0"),
  );
  expect(await withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, node.url)).toBe(0);
}

describe("broker faults in the middle of send and work (isolated node)", () => {
  beforeAll(() => node.start(), 90_000);
  afterAll(() => node.wipe(), 90_000);

  test.each([
    ["2. a graceful restart", () => node.restart()],
    [
      "3. kill -9 of the Erlang VM, then a start",
      async () => {
        await node.kill();
        await node.start();
      },
    ],
  ])(
    "%s: send exits 0 only with all 20000 confirmed, and every confirmed task is done",
    async (_label, fault) => {
      const env = { TASKQ_URL: node.url };
      const queue = uniqueQueue("fault");
      const workers = [0, 1].map(
        () => new TaskqProcess(["work", "-q", queue, "--json", "--prefetch", "10", "--reconnect-timeout", "90s"], env),
      );
      try {
        await Promise.all(workers.map((w) => w.ready()));
        // A small window keeps the send going for seconds (window 32 took 1.8 s here with both workers
        // consuming, window 8 3.6 s): the fault lands mid-send and mid-work, even when the machine is
        // slow to start the scripts/broker and rabbitmqctl processes that bring it.
        const send = runTaskq(
          ["send", "-q", queue, "--count", "20000", "--window", "8", "--json", "--reconnect-timeout", "90s"],
          { env, timeoutMs: 150_000 },
        );
        await waitFor(() => doneIds(workers).size > 0, 30_000, "the first tasks done");
        await fault();
        const r = await send;
        expect(r.code === 0 ? "exit 0" : `exit ${r.code}: ${r.stderr}`).toBe("exit 0"); // says why when it fails
        const summary = JSON.parse(r.stdout) as { sent: number; reconnects: number; resent: number };
        expect(summary.sent).toBe(20000);
        expect(
          summary.reconnects > 0 ? "the fault hit the send" : `the send was done before the fault: ${r.stdout}`,
        ).toBe("the fault hit the send");
        expect(r.stderr).toContain("reconnected");
        await expectAllDoneAfterReconnect(workers, queue, 20000);
      } finally {
        for (const w of workers) w.kill("SIGKILL");
        await node.ensureRunning(); // the fault may have failed half-way (killed, never started)
      }
    },
    200_000,
  );

  test("a task running across a restart is not acked on the new connection; the broker redelivers it", async () => {
    const env = { TASKQ_URL: node.url };
    const queue = uniqueQueue("fault-lost");
    const h = new TestHandler();
    const worker = new TaskqProcess(["work", "-q", queue, "--reconnect-timeout", "60s", ...h.command], {
      ...env,
      WORKER: "w",
    });
    try {
      await worker.ready();
      expect((await runTaskq(["send", "-q", queue, "block across the restart"], { env })).code).toBe(0);
      await waitFor(() => h.lines().length === 1, 10_000, "the task to start");
      await node.restart();
      await waitFor(() => worker.stderr.includes("reconnected; consuming again"), 30_000, "the worker to reconnect");
      h.release(); // the first run finishes now, on a connection that is gone
      await waitFor(() => h.lines().length === 2, 15_000, "the redelivery");
      expect(worker.stderr).toMatch(
        /task \S+ finished, but the connection that delivered it is gone; the broker will redeliver it/,
      );
      const [first, second] = h.lines();
      expect(second?.id).toBe(first?.id);
      expect(second?.redelivered).toBe(true);
      expect(await withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, node.url)).toBe(0);
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    } finally {
      worker.kill("SIGKILL");
      await node.ensureRunning();
    }
  }, 90_000);

  test("a memory alarm blocks publishing: send says so, waits, and finishes once the alarm clears", async () => {
    const env = { TASKQ_URL: node.url };
    const queue = uniqueQueue("fault-blocked");
    await node.ctl("set_vm_memory_high_watermark", "0.000001");
    let send: TaskqProcess | undefined;
    try {
      send = new TaskqProcess(["send", "-q", queue, "--count", "50"], env);
      await waitFor(
        () => (send as TaskqProcess).stderr.includes("blocks publishing"),
        20_000,
        "send to say it is blocked",
      );
      // A real sleep: that nothing happens (no exit) takes time to see.
      await Bun.sleep(500);
      expect(send.proc.exitCode).toBeNull(); // waiting, not failing
    } finally {
      await node.ctl("set_vm_memory_high_watermark", "0.4");
    }
    expect(await send.exited).toBe(0);
    expect(send.stderr).toContain("the broker lifted the block; publishing again");
    expect(send.stdout).toContain("sent 50 task(s)");
    expect(await withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, node.url)).toBe(50);
  }, 60_000);

  test("the broker never comes back: send and work give up after --reconnect-timeout with exit 3", async () => {
    const env = { TASKQ_URL: node.url };
    const queue = uniqueQueue("fault-gone");
    const worker = new TaskqProcess(["work", "-q", queue, "--reconnect-timeout", "2s"], env);
    try {
      await worker.ready();
      const send = runTaskq(["send", "-q", queue, "--count", "20000", "--window", "32", "--reconnect-timeout", "2s"], {
        env,
        timeoutMs: 60_000,
      });
      // Mid-send: the worker has had a task (the 20000 take seconds with a window of 32).
      await waitFor(() => worker.stdout.includes("[x] Received"), 30_000, "the first task received");
      await node.stop();
      const started = Date.now();
      const r = await send;
      expect(r.code).toBe(3);
      expect(r.stdout).not.toContain("all confirmed"); // never reports tasks as sent that were not confirmed
      expect(r.stderr).toMatch(/cannot reach the broker at 127\.0\.0\.1:\d+/);
      expect(await worker.exited).toBe(3);
      expect(worker.stderr).toMatch(/taskq: cannot reach the broker/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      worker.kill("SIGKILL");
      await node.ensureRunning();
    }
  }, 120_000);

  test("a network drop (every connection cut, the broker untouched) mid-send and mid-work: reconnect, nothing lost", async () => {
    const proxy = new DropProxy(node.port);
    await proxy.start();
    const env = { TASKQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}` };
    const queue = uniqueQueue("fault-drop");
    const workers = [0, 1].map(
      () => new TaskqProcess(["work", "-q", queue, "--json", "--prefetch", "10", "--reconnect-timeout", "60s"], env),
    );
    try {
      await Promise.all(workers.map((w) => w.ready()));
      const send = runTaskq(
        ["send", "-q", queue, "--count", "20000", "--window", "32", "--json", "--reconnect-timeout", "60s"],
        { env, timeoutMs: 120_000 },
      );
      await waitFor(
        () => proxy.connections >= 3 && doneIds(workers).size > 0,
        30_000,
        "the sender connected and the first tasks done",
      );
      expect(proxy.drop()).toBeGreaterThanOrEqual(3); // the sender and both workers
      const r = await send;
      expect(r.code === 0 ? "exit 0" : `exit ${r.code}: ${r.stderr}`).toBe("exit 0"); // says why when it fails
      const summary = JSON.parse(r.stdout) as { sent: number; reconnects: number };
      expect(summary.sent).toBe(20000);
      expect(summary.reconnects).toBeGreaterThanOrEqual(1);
      await expectAllDoneAfterReconnect(workers, queue, 20000);
    } finally {
      for (const w of workers) w.kill("SIGKILL");
      proxy.stop();
    }
  }, 150_000);
});
