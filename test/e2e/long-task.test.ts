import { afterAll, describe, expect, test } from "bun:test";
import {
  BROKER_PORT,
  brokerCounts,
  deleteQueues,
  rabbitmqctlCommand,
  uniqueQueue,
  waitFor,
} from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
const procs: TaskqProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await deleteQueues(queues);
});

/** Heartbeat timeout, client port and connect time of the connection named `name`, as the broker sees it. */
async function connectionInfo(
  name: string,
): Promise<{ heartbeat: number; peerPort: number; connectedAt: number } | undefined> {
  const proc = Bun.spawn(
    rabbitmqctlCommand([
      "-q",
      "list_connections",
      "timeout",
      "peer_port",
      "connected_at",
      "client_properties",
      "--no-table-headers",
    ]),
    { stdout: "pipe", stderr: "pipe" },
  );
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  for (const line of text.split("\n")) {
    // The name as given, or with the suite's TASKQ_CONNECTION_TAG after it.
    if (!line.includes(`"connection_name","${name}"`) && !line.includes(`"connection_name","${name} [`)) continue;
    const [heartbeat, peerPort, connectedAt] = line.trim().split(/\s+/).map(Number);
    return { heartbeat: heartbeat as number, peerPort: peerPort as number, connectedAt: connectedAt as number };
  }
  return undefined;
}

describe("long tasks", () => {
  test("a 1 s heartbeat connection survives a handler running 5 s: acked on the same connection, no reconnect", async () => {
    const queue = uniqueQueue("long-task");
    queues.push(queue, `${queue}.dead`);
    const url = `amqp://guest:guest@127.0.0.1:${BROKER_PORT}/?heartbeat=1`;
    const h = new TestHandler();
    const w = new TaskqProcess(["work", "--url", url, "-q", queue, ...h.command]);
    procs.push(w);
    await w.ready();
    const before = await waitFor(() => connectionInfo(`taskq work ${w.pid}`), 10_000, "the worker's connection");
    expect(before.heartbeat).toBe(1); // ?heartbeat=1 took effect: the broker expects a frame every second

    const sent = await runTaskq(["send", "--url", url, "-q", queue, "block for 5 s"]);
    expect(sent.code).toBe(0);
    await waitFor(() => h.lines().length === 1, 10_000, "the handler to start");
    const started = Date.now();
    await Bun.sleep(5000); // 5 heartbeat intervals, 2.5 of the broker's timeouts (it gives up after 2 missed)
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 1 }); // still held, by the same delivery
    h.release();
    await waitFor(async () => (await brokerCounts(queue)).unacked === 0, 10_000, "the ack");
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });

    const after = await connectionInfo(`taskq work ${w.pid}`);
    expect(after).toEqual(before); // same socket, same connect time: never dropped
    expect(h.lines()).toHaveLength(1); // ran once, not redelivered
    expect(h.lines()[0]).toMatchObject({ redelivered: false, attempt: 1 });

    w.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect(w.stderr).not.toMatch(/reconnect|lost the connection|\[!\]|heartbeat/i);
  }, 30_000);

  test("control: the same worker frozen (SIGSTOP) misses its heartbeats, so the broker drops it; it reconnects and the task is redelivered", async () => {
    // Shows the first test would notice a dropped connection: here the event loop, not the handler, stops.
    const queue = uniqueQueue("long-task-frozen");
    queues.push(queue, `${queue}.dead`);
    const url = `amqp://guest:guest@127.0.0.1:${BROKER_PORT}/?heartbeat=1`;
    const h = new TestHandler();
    const w = new TaskqProcess(["work", "--url", url, "-q", queue, ...h.command]);
    procs.push(w);
    await w.ready();
    expect((await runTaskq(["send", "-q", queue, "block while frozen"])).code).toBe(0);
    await waitFor(() => h.lines().length === 1, 10_000, "the handler to start");
    w.kill("SIGSTOP");
    try {
      // Frozen until the broker gives up on it (2 missed heartbeats, about 2-3 s).
      await waitFor(
        async () => (await connectionInfo(`taskq work ${w.pid}`)) === undefined,
        20_000,
        "the broker to drop the frozen worker's connection",
      );
    } finally {
      w.kill("SIGCONT");
    }
    await waitFor(() => /reconnected/.test(w.stderr), 15_000, "the worker to reconnect");
    expect(w.stderr).toMatch(/lost the connection|closed/);
    h.release(); // the first run finishes on a dead connection; the redelivery runs on the new one
    await waitFor(() => h.lines().length === 2, 10_000, "the redelivery");
    expect(h.lines()[1]).toMatchObject({ redelivered: true, attempt: 2, body: "block while frozen" });
    await waitFor(
      async () => {
        const c = await brokerCounts(queue);
        return c.ready === 0 && c.unacked === 0;
      },
      10_000,
      "the ack",
    );
    w.kill("SIGTERM");
    expect(await w.exited).toBe(0);
  }, 40_000);
});
