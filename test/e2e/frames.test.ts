import { afterAll, describe, expect, test } from "bun:test";
import type { Channel, ConsumeMessage } from "amqplib";
import amqp from "amqplib";
import { ackWriter, coalesceWrites } from "../../src/core/broker/amqplib.ts";
import { BROKER_URL, brokerCounts, readyCount, trackedQueues, waitFor, withChannel } from "../support/broker.ts";

// src/core/broker/amqplib.ts writes ack frames past amqplib's public API, into its internals. Should an amqplib
// upgrade move them, it falls back (said once, as a process warning) and the worker gets slower: this test says so.

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
  waitFor(
    async () => {
      const c = await brokerCounts(queue);
      return c.ready === 0 && c.unacked === 0;
    },
    10_000,
    `${queue}: nothing ready, nothing unacked`,
  );

describe("ackWriter with the real amqplib (shared broker)", () => {
  test("finds amqplib's internals: the direct path, not the fallback", async () => {
    await withChannel(async (ch) => {
      expect(ackWriter(ch).direct).toBe(true);
    });
  });

  test("the frames it writes are ones the broker takes: ack, multiple ack, nack with requeue", async () => {
    const queue = tracked.name("frames");
    await withChannel(async (ch) => {
      await ch.assertQueue(queue); // durable: RabbitMQ 4 deprecates transient non-exclusive queues
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
      await ch.assertQueue(queue); // durable: RabbitMQ 4 deprecates transient non-exclusive queues
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

describe("coalesceWrites with the real amqplib (shared broker)", () => {
  test("1000 tasks published in one turn reach the socket in a few writes, and the broker has all 1000", async () => {
    const queue = tracked.name("coalesce");
    const model = await amqp.connect(BROKER_URL);
    try {
      expect(coalesceWrites(model)).toBe(true);
      // Count what the socket is handed: one _write per frame without the cork, _writev batches with it.
      const socket = (model as unknown as { connection: { stream: Record<string, (...args: unknown[]) => unknown> } })
        .connection.stream;
      const calls = { write: 0, writev: 0 };
      for (const name of ["_write", "_writev"] as const) {
        const original = socket[name]?.bind(socket);
        if (!original) continue;
        socket[name] = (...args: unknown[]) => {
          calls[name === "_write" ? "write" : "writev"]++;
          return original(...args);
        };
      }
      const ch = await model.createConfirmChannel();
      await ch.assertQueue(queue); // durable: RabbitMQ 4 deprecates transient non-exclusive queues
      calls.write = 0;
      calls.writev = 0;
      for (let i = 1; i <= 1000; i++) ch.sendToQueue(queue, Buffer.from(`task ${i}`));
      await ch.waitForConfirms();
      expect(calls.write + calls.writev).toBeLessThan(20);
      expect(await readyCount(queue)).toBe(1000);
    } finally {
      await model.close().catch(() => {});
    }
  }, 30_000);
});
