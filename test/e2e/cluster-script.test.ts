import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { drain, readyCount, uniqueQueue, withChannel } from "../support/broker.ts";
import { LocalCluster } from "../support/cluster.ts";

const cluster = new LocalCluster("cluster");
const QUORUM = { durable: true, arguments: { "x-queue-type": "quorum" } };

/** Publishes `body` to `queue` through `url` and waits for the broker's confirm. */
async function publishConfirmed(url: string, queue: string, body: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await conn.close().catch(() => {});
  }
}

const bodies = async (queue: string, url: string): Promise<string[]> => (await drain(queue, url)).map((m) => m.content.toString());

describe("scripts/cluster: a three-node cluster on this machine", () => {
  // Three boots share two cores (with whatever else runs): allow for a loaded machine.
  beforeAll(() => cluster.up(), 300_000);
  afterAll(() => cluster.down(), 60_000);

  test("up forms one cluster of three running nodes; a second up only prints the URLs", async () => {
    expect(await cluster.runningNodes(1)).toEqual([...cluster.nodeNames].toSorted());
    await cluster.up();
  }, 60_000);

  test(
    "a quorum queue declared on node 1 is served by nodes 2 and 3 while node 1 is down, and node 1 rejoins",
    async () => {
      const queue = uniqueQueue("cluster-qq");
      await withChannel((ch) => ch.assertQueue(queue, QUORUM), cluster.url(1));
      expect(await readyCount(queue, cluster.url(2))).toBe(0);

      await cluster.kill(1);
      // Node 1 led the queue: the confirm waits for nodes 2 and 3 to elect a new leader.
      await publishConfirmed(cluster.url(2), queue, "while node 1 is down");
      expect(await readyCount(queue, cluster.url(3))).toBe(1);
      expect(await bodies(queue, cluster.url(2))).toEqual(["while node 1 is down"]);

      await cluster.start(1);
      await publishConfirmed(cluster.url(1), queue, "node 1 is back");
      expect(await bodies(queue, cluster.url(3))).toEqual(["node 1 is back"]);
      await withChannel((ch) => ch.deleteQueue(queue), cluster.url(1));
    },
    240_000,
  );
});
