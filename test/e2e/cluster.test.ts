import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as amqp from "amqplib";
import { type LocalCluster as Cluster, type NodeNumber, suiteCluster } from "../support/cluster.ts";
import { waitFor } from "../support/broker.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

// Three isolated RabbitMQ nodes joined into one cluster (scripts/cluster); quorum queues; a node
// killed with kill -9 mid-run. The shared broker is never touched.
let cluster: Cluster;
const urlFlags = () => cluster.urls.flatMap((u: string) => ["--url", u]);
let n = 0;
const queueName = (label: string) => `cl-${label}-${process.pid}-${++n}`;

/** A node killed by the last test, starting again in the background: the next test waits for it. */
let restarting: Promise<unknown> = Promise.resolve();
beforeAll(async () => {
  cluster = await suiteCluster();
}, 300_000);
beforeEach(() => restarting, 300_000);
afterAll(() => restarting, 300_000); // the suite's cluster is stopped after every file (test/support/teardown.ts)

/** Ids of the JSON lines a worker printed with outcome "done", with when each started and ended (ms since epoch). */
const doneLines = (stdout: string) =>
  jsonLines<{ id: string; outcome: string; start: number; end: number; attempt: number }>(stdout).filter(
    (l) => l.outcome === "done",
  );

/** The task numbers (the message id's suffix) among `ids` that are not in 1..count. */
function missing(ids: Iterable<string>, count: number): number[] {
  const seen = new Set<number>();
  for (const id of ids) seen.add(Number(id.slice(id.lastIndexOf("-") + 1)));
  const out: number[] = [];
  for (let i = 1; i <= count; i++) if (!seen.has(i)) out.push(i);
  return out;
}

/** Every message in `queue` (through any live node), consumed and acked: their message ids. */
async function takeAll(queue: string, url: string, expected: number): Promise<string[]> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(500);
    const ids: string[] = [];
    let last = Date.now();
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      ids.push(String(msg.properties.messageId));
      last = Date.now();
      ch.ack(msg);
    });
    await waitFor(() => ids.length >= expected && Date.now() - last > 500, 60_000, `${expected} messages in ${queue}`);
    return ids;
  } finally {
    await conn.close().catch(() => {});
  }
}

/** `taskq ARGS` against the cluster, which must exit 0 (its stderr in the failure otherwise). */
async function taskq(args: string[], timeoutMs = 120_000) {
  const r = await runTaskq(args, { timeoutMs });
  if (r.code !== 0) throw new Error(`taskq ${args.slice(0, 2).join(" ")} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}

/** Kills node `k`, runs `during`, and always starts it again, in the background (the next test waits for it). */
async function withNodeDown<T>(k: NodeNumber, during: (killedAt: number) => Promise<T>): Promise<T> {
  // Before the kill, not after: the script takes a while to return, and the workers fail over meanwhile.
  const killedAt = Date.now();
  await cluster.kill(k);
  try {
    return await during(killedAt);
  } finally {
    restarting = cluster.start(k).catch((err: unknown) => console.error(`node ${k} did not start again: ${err}`));
  }
}

describe("taskq on a three-node cluster (quorum queues)", () => {
  test("scripts/cluster up forms one cluster of three running nodes; a second up only prints the URLs", async () => {
    expect(await cluster.runningNodes(1)).toEqual([...cluster.nodeNames].toSorted());
    await cluster.up();
  }, 120_000);

  test("kill -9 of the node the workers use: each consumes from another node within 10 s and goes on; every task done", async () => {
    const queue = queueName("workers");
    const TASKS = 1500;
    await taskq(["send", "-q", queue, "--queue-type", "quorum", ...urlFlags(), "--count", String(TASKS), "task {i} ."]);
    // Every worker lists node 1 first: all of them are on the node that is killed.
    const workers = [0, 1, 2].map(
      () =>
        new TaskqProcess([
          "work",
          "-q",
          queue,
          "--queue-type",
          "quorum",
          ...urlFlags(),
          "--json",
          "--dot-ms",
          "5",
          "--reconnect-timeout",
          "60s",
        ]),
    );
    try {
      await Promise.all(workers.map((w) => w.ready(60_000)));
      await waitFor(() => workers.every((w) => doneLines(w.stdout).length >= 50), 60_000, "each worker doing tasks");
      await withNodeDown(1, async (killedAt) => {
        // When each worker says it lost its connection (read every 5 ms): a killed VM keeps its
        // sockets open until the kernel has torn it down (1-2 s here), and tasks done meanwhile
        // were done on the dying node. Tasks done after the loss were done through another node.
        const lostAt = await Promise.all(
          workers.map((w) =>
            waitFor(
              () => (/; reconnecting/.test(w.stderr) ? Date.now() : undefined),
              30_000,
              "the worker saying it lost its connection",
              5,
            ),
          ),
        );
        const failover: number[] = [];
        for (const [i, w] of workers.entries()) {
          const since = lostAt[i] as number;
          const after = await waitFor(
            () => doneLines(w.stdout).find((l) => l.start > since),
            30_000,
            "a task started and done after the loss",
          );
          failover.push(Math.round(after.end - since));
          expect(after.end - killedAt).toBeLessThan(10_000);
          expect(w.stderr).toMatch(/reconnected/);
        }
        // As taskq bench --chaos kill-node measures it (src/bench/failover.ts).
        console.log(
          `failover ms (from each worker's lost connection to its first task done through another node), per worker: ${failover.sort((a, b) => a - b).join(", ")}; the kill to the loss: ${lostAt.map((t) => Math.round(t - killedAt)).join(", ")} ms`,
        );
        const all = () => workers.flatMap((w) => doneLines(w.stdout).map((l) => l.id));
        await waitFor(() => missing(all(), TASKS).length === 0, 120_000, "every task done");
      });
      expect(
        missing(
          workers.flatMap((w) => doneLines(w.stdout).map((l) => l.id)),
          TASKS,
        ),
      ).toEqual([]);
    } finally {
      for (const w of workers) w.kill("SIGKILL");
    }
  }, 300_000);

  test("kill -9 of the node under send, mid-send: send fails over, exits 0, and every task it confirmed is in the queue", async () => {
    const queue = queueName("send");
    const TASKS = 10_000;
    const send = taskq(
      [
        "send",
        "-q",
        queue,
        "--queue-type",
        "quorum",
        ...urlFlags(),
        "--count",
        String(TASKS),
        "--window",
        "64",
        "--json",
        "--reconnect-timeout",
        "90s",
      ],
      240_000,
    );
    const probe = await amqp.connect(cluster.url(2));
    try {
      // Mid-send: some tasks confirmed, not all.
      // A passive declare of a missing queue closes the channel: a fresh one for each look.
      const count = async () => {
        const look = await probe.createChannel();
        look.on("error", () => {});
        const n = await look.checkQueue(queue).then(
          (ok) => ok.messageCount,
          () => 0,
        );
        await look.close().catch(() => {});
        return n;
      };
      await waitFor(async () => (await count()) > 500, 60_000, "send under way");
    } finally {
      await probe.close().catch(() => {});
    }
    const r = await withNodeDown(1, () => send);
    const summary = JSON.parse(r.stdout) as { sent: number; reconnects: number };
    expect(summary.sent).toBe(TASKS);
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    const ids = await takeAll(queue, cluster.url(2), TASKS);
    expect(missing(ids, TASKS)).toEqual([]);
  }, 300_000);

  test("a node killed while tasks wait in retry queues: each is done once its delay is over; none lost, none dead", async () => {
    const queue = queueName("retry");
    const TASKS = 200;
    const dir = mkdtempSync(join(tmpdir(), "taskq-cl-"));
    const script = join(dir, "first-fails.sh");
    writeFileSync(script, '#!/bin/sh\ncat >/dev/null\n[ "$TASKQ_ATTEMPT" = 1 ] && exit 3\nexit 0\n');
    chmodSync(script, 0o755);
    await taskq(["send", "-q", queue, "--queue-type", "quorum", ...urlFlags(), "--count", String(TASKS)]);
    const worker = new TaskqProcess([
      "work",
      "-q",
      queue,
      "--queue-type",
      "quorum",
      ...urlFlags(),
      "--json",
      "-c",
      "8",
      "--retry-delay",
      "8s",
      "--reconnect-timeout",
      "60s",
      "--",
      script,
    ]);
    try {
      await worker.ready(60_000);
      const lines = () => jsonLines<{ id: string; outcome: string }>(worker.stdout);
      await waitFor(
        () => lines().filter((l) => l.outcome === "retry").length === TASKS,
        60_000,
        "every task in its retry queue",
      );
      // Node 1 holds the workers' connection and, for some queues, the leader: kill it while all wait.
      await withNodeDown(1, async () => {
        await waitFor(
          () =>
            missing(
              doneLines(worker.stdout).map((l) => l.id),
              TASKS,
            ).length === 0,
          120_000,
          "every task done after its delay",
        );
      });
      expect(lines().filter((l) => l.outcome === "dead")).toEqual([]);
      expect(
        missing(
          doneLines(worker.stdout).map((l) => l.id),
          TASKS,
        ),
      ).toEqual([]);
    } finally {
      worker.kill("SIGKILL");
    }
  }, 300_000);

  test("a node killed while taskq dead requeue runs: nothing lost, nothing left twice in .dead", async () => {
    const queue = queueName("requeue");
    const TASKS = 3000;
    // Fill <queue>.dead directly (as failed tasks would), quorum like the work queue.
    const conn = await amqp.connect(cluster.url(2));
    try {
      const ch = await conn.createConfirmChannel();
      for (const q of [queue, `${queue}.dead`])
        await ch.assertQueue(q, { durable: true, arguments: { "x-queue-type": "quorum" } });
      for (let i = 1; i <= TASKS; i++)
        ch.sendToQueue(`${queue}.dead`, Buffer.from(`dead ${i}`), {
          persistent: true,
          messageId: `dead-${i}`,
          headers: { "x-taskq-reason": "test" },
        });
      await ch.waitForConfirms();
    } finally {
      await conn.close().catch(() => {});
    }
    const requeue = taskq(["dead", "requeue", "-q", queue, ...urlFlags()], 180_000);
    const probe = await amqp.connect(cluster.url(3));
    try {
      const ch = await probe.createChannel();
      await waitFor(async () => (await ch.checkQueue(queue)).messageCount > 200, 60_000, "the requeue under way");
    } finally {
      await probe.close().catch(() => {});
    }
    await withNodeDown(1, () => requeue);
    const ids = await takeAll(queue, cluster.url(2), TASKS);
    expect(missing(ids, TASKS)).toEqual([]);
    const left = await amqp.connect(cluster.url(2)).then(async (c) => {
      const n = (await (await c.createChannel()).checkQueue(`${queue}.dead`)).messageCount;
      await c.close();
      return n;
    });
    expect(left).toBe(0);
  }, 300_000);
});
