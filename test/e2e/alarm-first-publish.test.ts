import { afterAll, beforeAll, expect, test } from "bun:test";
import amqp from "amqplib";
import { IsolatedNode, freePort } from "../support/node.ts";
import { uniqueQueue, waitFor } from "../support/broker.ts";

// What a memory alarm does to a connection that publishes (publish-probe.ts, publish/alarm.ts): the
// broker still handles the first publish, says `blocked` once, then reads nothing more until it clears.
const node = new IsolatedNode("alarm-first", freePort(157));

beforeAll(() => node.start(), 120_000);
afterAll(async () => {
  await node.clearMemoryAlarm().catch(() => "");
  await node.wipe();
}, 60_000);

/** Whether `confirmed` settles within `ms`. */
const within = (confirmed: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([confirmed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

test("during a memory alarm: the first publish is confirmed, the second held until it clears; `blocked` said once", async () => {
  const conn = await amqp.connect(node.url);
  try {
    let blocked = 0;
    conn.on("blocked", () => blocked++);
    const ch = await conn.createConfirmChannel();
    const publish = () =>
      new Promise<void>((resolve, reject) =>
        ch.publish("", uniqueQueue("no-such-queue"), Buffer.alloc(0), {}, (err) => (err ? reject(err) : resolve())),
      );
    await publish(); // before the alarm: confirmed as usual
    await node.raiseMemoryAlarm();
    await waitFor(node.memoryAlarmOn, 20_000, "the memory alarm");
    try {
      expect(await within(publish(), 3000)).toBe(true);
      const second = publish();
      expect(await within(second, 3000)).toBe(false);
      expect(blocked).toBe(1);
      await node.clearMemoryAlarm();
      expect(await within(second, 20_000)).toBe(true);
    } finally {
      await node.clearMemoryAlarm();
    }
    expect(blocked).toBe(1);
  } finally {
    await conn.close().catch(() => {});
  }
}, 90_000);
