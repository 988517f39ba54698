import { afterAll, describe, expect, test } from "bun:test";
import { purgeDeadAcross } from "../../../../src/core/admin/dead-purge.ts";
import type { BrokerTarget } from "../../../../src/core/broker/connection.ts";
import { Reconnector, connect } from "../../../../src/core/broker/reconnector.ts";
import { BROKER_URL, brokerCounts, drain, trackedQueues, waitFor, withChannel } from "../../../support/broker.ts";
import { type CutAt, FrameCutter, METHOD } from "../../../support/frame-cutter.ts";

// `purgeDeadAcross` with its first connection cut at an exact frame (FrameCutter), then going on
// through the broker straight: what it counts against what the broker really deleted.

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const SELECTED = 1000;

/** 1000 "boom A" dead tasks (a-1..a-1000), a "boom B" one after every 10th: 1100 in all. */
async function park(queue: string): Promise<void> {
  await withChannel(async (ch) => {
    await ch.assertQueue(`${queue}.dead`, { durable: true });
    for (let i = 1; i <= SELECTED; i++) {
      const failedAt = new Date(Date.now() - 3_600_000).toISOString();
      ch.sendToQueue(`${queue}.dead`, Buffer.from(`a ${i}`), {
        persistent: true,
        messageId: `a-${i}`,
        headers: { "x-taskq-reason": "boom A", "x-taskq-failed-at": failedAt },
      });
      if (i % 10 === 0)
        ch.sendToQueue(`${queue}.dead`, Buffer.from(`b ${i}`), {
          persistent: true,
          messageId: `b-${i}`,
          headers: { "x-taskq-reason": "boom B" },
        });
    }
    await ch.checkQueue(`${queue}.dead`); // a round trip after the publishes: they are in
  });
}

/** Purges "boom A" through a cutter (first URL), then the broker straight; what is left once the cut link is gone. */
async function purgeCut(at: CutAt, limit?: number) {
  const queue = tracked.name("purge-cut");
  await park(queue);
  const cutter = new FrameCutter(at);
  await cutter.start();
  const target: BrokerTarget = { urls: [cutter.url, BROKER_URL], connectTimeoutMs: 5000 };
  const broker = await connect(target);
  try {
    const options = { selector: { reason: "boom A" }, ...(limit === undefined ? {} : { limit }) };
    const result = await purgeDeadAcross(broker, new Reconnector(target, { timeoutMs: 30_000 }), queue, options);
    expect(cutter.cut).toBe(true);
    cutter.stop(); // a held link lets go: the broker requeues what it held
    await waitFor(async () => (await brokerCounts(`${queue}.dead`)).unacked === 0, 30_000, "the held tasks back");
    const left = (await drain(`${queue}.dead`)).map((m) => String(m.properties.messageId));
    const leftA = left.filter((id) => id.startsWith("a-"));
    // The unselected stay, all of them, in order.
    expect(left.filter((id) => id.startsWith("b-"))).toEqual(
      Array.from({ length: SELECTED / 10 }, (_, i) => `b-${(i + 1) * 10}`),
    );
    return { result, deleted: SELECTED - leftA.length, leftA };
  } finally {
    cutter.stop();
    await broker.close();
  }
}

describe("dead purge across a cut connection: counts what the broker deleted, never more than the limit", () => {
  test("no limit, the 300th delete cut before the broker got it: every selected task deleted, each counted once", async () => {
    const { result, deleted } = await purgeCut({ method: METHOD.basicAck, nth: 300, broker: "close" });
    expect(deleted).toBe(SELECTED);
    expect(result.purged).toBe(SELECTED);
    expect(result.counts).toMatchObject({ uncertain: 0, cutOff: 1 });
  }, 60_000);

  test("--limit 500, the 300th delete cut before the broker got it: 499 deleted and said (the cut one counts against the limit)", async () => {
    const { result, deleted } = await purgeCut({ method: METHOD.basicAck, nth: 300, broker: "close" }, 500);
    expect(deleted).toBeLessThanOrEqual(500);
    expect(result.purged).toBe(deleted);
    expect(deleted).toBe(499);
    expect(result.counts).toMatchObject({ uncertain: 0, cutOff: 1 });
  }, 60_000);

  test("--limit 500, the 300th delete reached the broker and its answer was cut (link held): 500 deleted, 499 said and 1 perhaps", async () => {
    const { result, deleted } = await purgeCut({ method: METHOD.basicGet, nth: 301, broker: "hold" }, 500);
    expect(deleted).toBe(500);
    expect(result.purged).toBe(499);
    expect(result.counts).toMatchObject({ uncertain: 1, cutOff: 0 });
  }, 60_000);

  test("--limit 500, the 300th delete cut and its task held by the dead link: 499 deleted, 1 perhaps, none twice", async () => {
    const { result, deleted, leftA } = await purgeCut({ method: METHOD.basicAck, nth: 300, broker: "hold" }, 500);
    expect(deleted).toBe(499);
    expect(result.purged).toBe(499);
    expect(result.counts).toMatchObject({ uncertain: 1, cutOff: 0 });
    expect(leftA).toContain("a-300"); // back once the link was gone
  }, 60_000);
});
