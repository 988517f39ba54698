import { describe, expect, test } from "bun:test";
import { queueExists, rabbitmqctl, uniqueQueue, waitFor, withChannel } from "../../../support/broker.ts";

// names.ts (HOP_EXPIRY_MARGIN_MS) assumes a hop queue lives its x-expires after a declare, and says
// what breaks that: an operator policy with a shorter `expires` wins (the broker takes the smaller).
describe("names.ts: an operator policy's shorter expires wins over a hop queue's x-expires", () => {
  test("a queue declared with x-expires of 10 min goes within seconds under an operator policy of 1 s", async () => {
    const queue = uniqueQueue("operator-expires");
    const policy = `${queue}.policy`;
    await rabbitmqctl("set_operator_policy", policy, `^${queue.replaceAll(".", "\\.")}$`, '{"expires": 1000}');
    try {
      await withChannel((ch) => ch.assertQueue(queue, { durable: true, arguments: { "x-expires": 600_000 } }));
      expect(await queueExists(queue)).toBe(true);
      // Looked for every 2 s: a passive declare is a use too, and would restart the queue's 1 s.
      expect(await waitFor(async () => !(await queueExists(queue)), 15_000, "the queue to expire", 2000)).toBe(true);
    } finally {
      await rabbitmqctl("clear_operator_policy", policy);
      await withChannel((ch) => ch.deleteQueue(queue)).catch(() => {});
    }
  }, 30_000);
});
