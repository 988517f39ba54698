import { beforeAll, describe, expect, test } from "bun:test";
import { deleteQueues, uniqueQueue } from "../support/broker.ts";
import { versionBroker } from "../support/versions.ts";
import { connect, work } from "../../src/index.ts";

// A stop on a quorum queue while a producer still publishes: the consumer, not full, keeps being
// fed while its cancel waits (consumer.ts, ack-hush.ts). What it is fed then is handed back once,
// after the cancel-ok (hand-backs.ts): every task runs exactly once across this worker and the next.

/**
 * The runs of each task body, over a worker stopped after 30 tasks and a second one that runs
 * what is left, and whether the first handed back each task once at most.
 */
async function stopWhilePublishing(url: string, prefetch: number | "auto") {
  const queue = uniqueQueue("stop-publishing");
  try {
    return await stopWhilePublishingOn(url, queue, prefetch);
  } finally {
    await deleteQueues([queue, `${queue}.dead`], url);
  }
}

async function stopWhilePublishingOn(url: string, queue: string, prefetch: number | "auto") {
  const runs = new Map<string, number>();
  const ran = (body: string) => runs.set(body, (runs.get(body) ?? 0) + 1);
  const client = await connect({ url, queue, queueType: "quorum" });
  let sent = 0;
  let publishing = true;
  // One task about every 5 ms, each confirmed: the consumer is fed all along, never full.
  const producer = (async () => {
    for (let i = 0; publishing; i++) {
      await client.send(`t${i}`);
      sent++;
      await Bun.sleep(5);
    }
    await client.close();
  })();
  let cameBack = 0;
  const first = await work(
    { url, queue, queueType: "quorum", prefetch, concurrency: 32, reportEveryMs: 0 },
    async (task) => {
      ran(task.body.toString());
      if (runs.size === 30) first.stop();
      await Bun.sleep(5);
    },
  );
  const stopped = await first.done;
  await Bun.sleep(300); // the producer goes on a while after the stop
  publishing = false;
  await producer;
  const second = await work(
    {
      url,
      queue,
      queueType: "quorum",
      prefetch: 10,
      concurrency: 4,
      idleExitMs: 1500,
      reportEveryMs: 0,
      onEvent: (e) => {
        if (e.type === "came-back") cameBack++;
      },
    },
    async (task) => void ran(task.body.toString()),
  );
  await second.done;
  const twice = [...runs].filter(([, n]) => n > 1).map(([body, n]) => `${body}x${n}`);
  // Each task handed back once at most: never more hand-backs than tasks the first worker left.
  const handedBackOnce = stopped.requeued <= sent - stopped.done;
  return { sent, ran: runs.size, twice, handedBackOnce, stopped: stopped.done, cameBack };
}

describe.each<["3.10" | "4.3"]>([["3.10"], ["4.3"]])(
  "a stop while a producer still publishes, RabbitMQ %s quorum queue",
  (version) => {
    const node = versionBroker(version);
    beforeAll(() => node.up(), 240_000);

    test.each<[number | "auto"]>([[100], ["auto"]])(
      "prefetch %p: every task runs exactly once over this worker and the next",
      async (prefetch) => {
        const run = await stopWhilePublishing(node.url, prefetch);
        expect(run.sent).toBeGreaterThan(run.stopped + 20); // the producer went on past the stop
        // Nothing lost, each hand-back once, and no loop (before the fix: tasks ran 11 to 70 times). At least once,
        // not exactly once: a delivery still in flight when the bounded hold (HUSH_MAX_MS) ends, or an ack
        // overtaken by the cancel, comes back and runs again at most once (4 of 115 in a suite run under load).
        expect(run).toMatchObject({ ran: run.sent, handedBackOnce: true });
        expect(run.twice.filter((t) => !t.endsWith("x2"))).toEqual([]);
      },
      120_000,
    );
  },
);
