import { afterAll, describe, expect, test } from "bun:test";
import type { Channel, ConsumeMessage } from "amqplib";
import { ackWriter } from "../../src/core/frames.ts";
import { brokerCounts, trackedQueues, waitFor, withChannel } from "../support/broker.ts";

// frames.ts writes ack frames past amqplib's public API, into its internals. Should an amqplib
// upgrade move them, it falls back without a word and the worker gets slower: this test says so.

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** Consumes `queue` (manual acks); `next()` resolves with the next delivery. */
async function deliveries(ch: Channel, queue: string): Promise<{ next: () => Promise<ConsumeMessage> }> {
  const arrived: ConsumeMessage[] = [];
  await ch.consume(queue, (msg) => msg && arrived.push(msg), { noAck: false });
  return { next: () => waitFor(() => arrived.shift(), 10_000, `a delivery from ${queue}`) };
}

/** Ready and unacked both 0, as rabbitmqctl reports them. */
const settled = (queue: string) =>
  waitFor(async () => {
    const c = await brokerCounts(queue);
    return c.ready === 0 && c.unacked === 0;
  }, 10_000, `${queue}: nothing ready, nothing unacked`);

describe("ackWriter with the real amqplib (shared broker)", () => {
  test("finds amqplib's internals: the direct path, not the fallback", async () => {
    await withChannel(async (ch) => {
      expect(ackWriter(ch).direct).toBe(true);
    });
  });

  test("the frames it writes are ones the broker takes: ack, multiple ack, nack with requeue", async () => {
    const queue = tracked.name("frames");
    await withChannel(async (ch) => {
      await ch.assertQueue(queue, { durable: false });
      for (const body of ["one", "two", "three"]) ch.sendToQueue(queue, Buffer.from(body));
      const writer = ackWriter(ch);
      expect(writer.direct).toBe(true);
      const { next } = await deliveries(ch, queue);
      const [one, two, three] = [await next(), await next(), await next()];
      expect([one, two, three].map((m) => m.content.toString())).toEqual(["one", "two", "three"]);

      writer.ack(two.fields.deliveryTag, true); // one and two
      writer.nack(three.fields.deliveryTag, false, true); // back to the queue, so to us again
      const again = await next();
      expect(again.content.toString()).toBe("three");
      expect(again.fields.redelivered).toBe(true);
      writer.ack(again.fields.deliveryTag, false);
      await settled(queue); // on the open channel: acked, not requeued by a close
      expect(writer.direct).toBe(true);
      // A malformed frame would have closed the channel (or the connection): it still answers.
      expect((await ch.checkQueue(queue)).messageCount).toBe(0);
    });
  }, 30_000);

  test("after queueBehind the acks go through amqplib, and still reach the broker", async () => {
    const queue = tracked.name("frames-behind");
    await withChannel(async (ch) => {
      await ch.assertQueue(queue, { durable: false });
      ch.sendToQueue(queue, Buffer.from("last"));
      const writer = ackWriter(ch);
      const { next } = await deliveries(ch, queue);
      const msg = await next();
      writer.queueBehind();
      expect(writer.direct).toBe(false);
      writer.ack(msg.fields.deliveryTag, false);
      await settled(queue);
    });
  }, 30_000);
});
