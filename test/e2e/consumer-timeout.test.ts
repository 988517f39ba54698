import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queueExists, readyCount, uniqueQueue } from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { jsonLines, runTaskq } from "../support/taskq.ts";

// Tasks longer than the broker's consumer_timeout (worker/consumer-timeout.ts; the invariant:
// worker/taken-back.ts). Nodes that check every second (channel_tick_interval) with a 5 s timeout.
const config = { conf: "consumer_timeout = 5000", advanced: "[{rabbit, [{channel_tick_interval, 1000}]}]." };
const node310 = new IsolatedNode("ctimeout310", freePort(131), { version: "3.10", config });
const node43 = new IsolatedNode("ctimeout43", freePort(143), { version: "4.3", config });

beforeAll(() => Promise.all([node310.start(), node43.start()]), 240_000);
afterAll(() => Promise.all([node310.wipe(), node43.wipe()]), 90_000);

/** Logs each run ("<body> <attempt> <redelivered>"), then sleeps as long as the body says. */
const RUN = `b=$(cat); echo "$b $TASKQ_ATTEMPT $TASKQ_REDELIVERED" >> "$RUNS"; sleep "\${b#sleep }"`;

/** One task `sleep SECONDS` sent, then one worker until it has been idle for 3 s: its runs, stderr and exit code. */
async function longTask(node: IsolatedNode, seconds: number, args: string[], queueType = "classic") {
  const queue = uniqueQueue(`ctimeout-${queueType}`);
  const env = { TASKQ_URL: node.url };
  expect((await runTaskq(["send", "-q", queue, "--queue-type", queueType, `sleep ${seconds}`], { env })).code).toBe(0);
  const log = join(mkdtempSync(join(tmpdir(), "taskq-ctimeout-")), "runs");
  const work = runTaskq(
    ["work", "-q", queue, "--queue-type", queueType, "--idle-exit", "3s", ...args, "--", "sh", "-c", RUN],
    { env: { ...env, RUNS: log }, timeoutMs: 60_000 },
  );
  return {
    queue,
    work,
    runs: async () => {
      await work;
      return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
    },
  };
}

describe("RabbitMQ 3.10 (consumer_timeout = 5000: the channel is closed)", () => {
  test.concurrent("a 15 s task runs once and is acked; the worker says what happened once, in one line", async () => {
    const t = await longTask(node310, 15, []);
    const r = await t.work;
    // Before: 2 runs (attempts 1 and 3), neither acked, then .dead after 5 returns ("its worker died 5 times").
    expect(await t.runs()).toEqual(["sleep 15 1 0"]);
    expect(r.code).toBe(0);
    expect(await readyCount(t.queue, node310.url)).toBe(0);
    expect(await queueExists(`${t.queue}.dead`, node310.url)).toBe(false);
    const said = r.stderr.split("\n").filter((l) => /consumer.timeout/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("unacked after its consumer_timeout (5.00s)");
    expect(said[0]).toContain("raise consumer_timeout in rabbitmq.conf");
    expect(r.stderr).not.toMatch(/reconnect(ed|ing)|came back|closed the consuming channel/);
    expect(r.stderr).toContain("1 done, 0 retried, 0 dead");
  }, 60_000);

  test.concurrent("--max-redeliveries 1: taken back once, the task lands in .dead with a reason naming consumer_timeout and how to raise it; run once", async () => {
    const t = await longTask(node310, 8, ["--max-redeliveries", "1"]);
    const r = await t.work;
    expect(await t.runs()).toEqual(["sleep 8 1 0"]);
    expect(r.code).toBe(0);
    const reason =
      "the broker took it back once while it ran (unacked past its consumer_timeout of 5000 ms): raise consumer_timeout in rabbitmq.conf above the longest task";
    // Before: "its worker died once while running it (killed, out of memory, or cut off from the broker)".
    const listed = await runTaskq(["dead", "list", "-q", t.queue, "--json"], { env: { TASKQ_URL: node310.url } });
    expect(jsonLines(listed.stdout)).toMatchObject([{ body: "sleep 8", reason, attempts: 1 }]);
    expect(await readyCount(t.queue, node310.url)).toBe(0);
    expect(r.stderr).toContain("(taken back once: --max-redeliveries 1)");
  }, 60_000);
});

describe("RabbitMQ 4.3 (consumer_timeout = 5000: quorum queues cancel the consumer, classic queues take no timeout)", () => {
  test.concurrent("quorum: the consumer cancelled for the timeout is replaced, the worker goes on; the task runs once and is acked", async () => {
    const t = await longTask(node43, 8, [], "quorum");
    const r = await t.work;
    // Before: the worker stopped ("the broker cancelled consuming ... was the queue deleted?"), exit 1, the task left in the queue (its ack ignored).
    expect(await t.runs()).toEqual(["sleep 8 1 0"]);
    expect(r.code).toBe(0);
    expect(await readyCount(t.queue, node43.url)).toBe(0);
    const said = r.stderr.split("\n").filter((l) => /consumer.timeout/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("or run work with --timeout (taskq then sets x-consumer-timeout on its consumer)");
  }, 60_000);

  test.concurrent("quorum with --timeout 20s: x-consumer-timeout on the consumer, above the task's bound; never taken back", async () => {
    const t = await longTask(node43, 8, ["--timeout", "20s"], "quorum");
    // --timeout 20s, --kill-after 5s, one round at prefetch 1, and the settling margin of 60 s.
    const args = await waitForConsumerArgs(t.queue);
    expect(args).toContain('"x-consumer-timeout",85000');
    const r = await t.work;
    // Before: cancelled at 5 s, the worker stopped, exit 1.
    expect(await t.runs()).toEqual(["sleep 8 1 0"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/consumer.timeout|cancelled/);
    expect(await readyCount(t.queue, node43.url)).toBe(0);
  }, 60_000);

  test.concurrent("classic with --timeout 20s: no x-consumer-timeout (4.3 refuses it on a classic queue), and no timeout taken: runs once", async () => {
    const t = await longTask(node43, 8, ["--timeout", "20s"]);
    const r = await t.work;
    expect(await t.runs()).toEqual(["sleep 8 1 0"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/consumer.timeout|PRECONDITION|invalid arg/);
    expect(await readyCount(t.queue, node43.url)).toBe(0);
  }, 60_000);
});

/** The arguments of the consumer of `queue` on the 4.3 node, as rabbitmqctl lists them, once it has one. */
async function waitForConsumerArgs(queue: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const out = await node43
      .ctl("-q", "list_consumers", "queue_name", "arguments", "--no-table-headers")
      .catch(() => "");
    const line = out.split("\n").find((l) => l.startsWith(`${queue}\t`) || l.startsWith(`${queue} `));
    if (line) return line.replaceAll(" ", "");
    await Bun.sleep(200);
  }
  throw new Error(`no consumer on ${queue}`);
}
