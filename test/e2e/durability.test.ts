import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { drain, uniqueQueue, withChannel } from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { runTaskq } from "../support/taskq.ts";

const node = new IsolatedNode("durable", freePort(1));

describe("3. durability across a broker restart (isolated node)", () => {
  beforeAll(() => node.start(), 90_000);
  afterAll(() => node.wipe(), 90_000);

  test("persistent tasks survive a restart; transient ones are gone", async () => {
    const env = { TASKQ_URL: node.url };
    const queue = uniqueQueue("durable");
    expect((await runTaskq(["send", "-q", queue, "--count", "50", "persistent {i}"], { env })).code).toBe(0);
    expect((await runTaskq(["send", "-q", queue, "--count", "50", "--transient", "transient {i}"], { env })).code).toBe(
      0,
    );
    expect(await withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, node.url)).toBe(100);

    try {
      await node.restart();
      const bodies = (await drain(queue, node.url)).map((m) => m.content.toString());
      expect(bodies).toHaveLength(50);
      expect(bodies).toEqual(Array.from({ length: 50 }, (_, i) => `persistent ${i + 1}`));
    } finally {
      await node.ensureRunning(); // a restart that failed half-way leaves it stopped
    }
  }, 120_000);
});
