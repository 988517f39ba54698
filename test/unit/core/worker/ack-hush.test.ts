import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import { AckHush, HUSH_QUIET_MS } from "../../../../src/core/worker/ack-hush.ts";
import { Acker } from "../../../../src/core/worker/acker.ts";
import { fakeChannel } from "../../../support/fakeChannel.ts";

const msg = (tag: number, consumerTag: string) => ({ fields: { deliveryTag: tag, consumerTag } }) as ConsumeMessage;

/** An Acker on a fake channel with its hush; `deliver` tracks a delivery as the session does. */
function setup(returns = true, quietMs = 60_000) {
  const fake = fakeChannel({ internals: true });
  const acker = new Acker(fake.channel, () => true);
  const hush = new AckHush(acker, returns, quietMs);
  const deliver = (m: ConsumeMessage) => {
    acker.track(m);
    hush.delivered(m);
  };
  /** An ack as the session writes it: held while its consumer is hushed. */
  const ack = (m: ConsumeMessage) => hush.held(m, false, false) || acker.ack(m, false);
  return { acker, hush, deliver, ack, ...fake };
}

describe("AckHush: a consumer is cancelled only when nothing can be on its way to it", () => {
  test("it resolves once the consumer holds its whole prefetch; acks meanwhile are held, then written after release", async () => {
    const { hush, deliver, ack, texts } = setup();
    const [a, b] = [msg(1, "old"), msg(2, "old")];
    deliver(a);
    let quiet = false;
    const hushed = hush.hush("old", 3).then(() => (quiet = true));
    ack(a); // held: an ack would free a credit the broker fills at once
    deliver(b);
    await Bun.sleep(0);
    expect(quiet).toBe(false); // 2 of 3
    deliver(msg(3, "old"));
    await hushed;
    expect(texts()).toEqual([]);
    hush.release("old");
    expect(texts()).toEqual(["ack 1"]);
  });

  test("another consumer's acks are not held", () => {
    const { hush, deliver, ack, texts } = setup();
    const m = msg(1, "new");
    deliver(msg(0, "old"));
    void hush.hush("old", 5);
    deliver(m);
    ack(m);
    expect(texts()).toEqual(["ack 1"]);
    hush.release("old");
  });

  test("a consumer left unfed (no delivery for HUSH_QUIET_MS) is taken as quiet", async () => {
    const { hush, deliver } = setup(true, HUSH_QUIET_MS);
    deliver(msg(1, "old"));
    const started = performance.now();
    await hush.hush("old", 10);
    expect(performance.now() - started).toBeGreaterThanOrEqual(HUSH_QUIET_MS - 5);
    hush.release("old");
  });

  test("where the broker gives nothing back (classic queues) it holds nothing and resolves at once", async () => {
    const { hush, deliver, ack, texts } = setup(false);
    const m = msg(1, "old");
    deliver(m);
    await hush.hush("old", 10);
    ack(m);
    expect(texts()).toEqual(["ack 1"]);
  });

  test("a requeue is held too, and a close releases every hushed consumer", async () => {
    const { hush, acker, deliver, texts } = setup();
    const m = msg(1, "old");
    deliver(m);
    void hush.hush("old", 4);
    expect(hush.held(m, true, false)).toBe(true);
    expect(texts()).toEqual([]);
    hush.releaseAll();
    expect(texts()).toEqual(["nack 1 requeue"]);
    expect(acker.unsettled).toEqual([]);
  });
});
