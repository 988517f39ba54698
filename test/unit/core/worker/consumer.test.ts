import { describe, expect, test } from "bun:test";
import type { Channel, ConsumeMessage } from "amqplib";
import { Consumer, type Hush } from "../../../../src/core/worker/consumer.ts";

/**
 * An amqplib channel as far as Consumer uses it, with amqplib's bookkeeping: a consumer's callback
 * is registered at consume-ok and dropped at cancel-ok (a cancel of a tag it does not know is still
 * sent and answered, as RabbitMQ answers one); a cancel from the broker drops the tag, then calls
 * the callback with null. Every method answers on a later turn, as a round trip does.
 */
function amqplibLikeChannel() {
  const consumers = new Map<string, (msg: ConsumeMessage | null) => void>();
  const sent: string[] = [];
  const later = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
  const channel = {
    async prefetch(count: number) {
      sent.push(`qos ${count}`);
      await later();
    },
    async consume(_queue: string, cb: (msg: ConsumeMessage | null) => void, options: { consumerTag: string }) {
      sent.push(`consume ${options.consumerTag}`);
      await later();
      consumers.set(options.consumerTag, cb);
      return { consumerTag: options.consumerTag };
    },
    async cancel(tag: string) {
      sent.push(`cancel ${tag}`);
      await later();
      consumers.delete(tag);
      return { consumerTag: tag };
    },
    registerConsumer(tag: string, cb: (msg: ConsumeMessage | null) => void) {
      consumers.set(tag, cb);
    },
    unregisterConsumer(tag: string) {
      consumers.delete(tag);
    },
  };
  /** basic.cancel from the broker (a 4.3 quorum queue's consumer timeout). */
  const brokerCancels = (tag: string) => {
    const cb = consumers.get(tag);
    consumers.delete(tag);
    cb?.(null);
  };
  return { channel: channel as unknown as Channel, sent, consumers, brokerCancels };
}

/** A hold that ends when the test says so (the old consumer still has credit), as AckHush's does. */
function heldHush() {
  let quiet: () => void = () => {};
  const hush: Hush = {
    hush: () =>
      new Promise<void>((resolve) => {
        quiet = resolve;
      }),
    release: () => {},
  };
  return { hush, quiet: () => quiet() };
}

const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe("Consumer.renew: a consumer the broker cancelled is replaced; the live one is left alone", () => {
  test("the broker cancels the old consumer of a switch under way: only that one is cancelled, the new one consumes on", async () => {
    const fake = amqplibLikeChannel();
    const { hush, quiet } = heldHush();
    let consumer: Consumer | undefined;
    const onCancel = (tag: string) => consumer?.renew(tag); // as Session.cancelled does, the queue still there
    consumer = new Consumer(fake.channel, "q", 2, () => {}, onCancel, hush);
    await consumer.start();
    const old = [...fake.consumers.keys()][0] as string;
    consumer.replace(10); // the switch: a new consumer, then the old one held until quiet
    await turns();
    const live = [...fake.consumers.keys()].find((tag) => tag !== old) as string;
    expect(live).toBeDefined();
    fake.brokerCancels(old); // its consumer timeout, while its acks are held
    quiet();
    await turns();
    const cancels = fake.sent.filter((line) => line.startsWith("cancel"));
    expect(cancels).toEqual([`cancel ${old}`]);
    expect([...fake.consumers.keys()]).toContain(live);
  });

  test("the broker cancels the consumer consuming now: it is cancelled here too, and another takes its place", async () => {
    const fake = amqplibLikeChannel();
    const { hush } = heldHush();
    let consumer: Consumer | undefined;
    consumer = new Consumer(
      fake.channel,
      "q",
      2,
      () => {},
      (tag) => consumer?.renew(tag),
      hush,
    );
    await consumer.start();
    const first = [...fake.consumers.keys()][0] as string;
    fake.brokerCancels(first);
    await turns();
    expect(fake.sent.filter((line) => line.startsWith("cancel"))).toEqual([`cancel ${first}`]);
    const now = [...fake.consumers.keys()].filter((tag) => tag !== first);
    expect(now).toHaveLength(1);
    expect(fake.sent.at(-1)).toBe(`consume ${now[0]}`);
  });
});
