import { afterAll, describe, expect, test } from "bun:test";
import { requeueDeadAcross } from "../../../../src/core/admin/dead-requeue.ts";
import type { BrokerTarget } from "../../../../src/core/broker/connection.ts";
import { Reconnector, connect } from "../../../../src/core/broker/reconnector.ts";
import { BROKER_URL, brokerCounts, drain, trackedQueues, waitFor, withChannel } from "../../../support/broker.ts";
import { type CutAt, FrameCutter, METHOD } from "../../../support/frame-cutter.ts";

// `requeueDeadAcross` with its first connection cut at an exact frame (FrameCutter), then going on
// through the broker straight: what it counts against what reached the work queue, and what is
// left in the dead queue.

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const TASKS = 1000;

async function park(queue: string): Promise<void> {
  await withChannel(async (ch) => {
    await ch.assertQueue(`${queue}.dead`, { durable: true });
    for (let i = 1; i <= TASKS; i++)
      ch.sendToQueue(`${queue}.dead`, Buffer.from(`t ${i}`), {
        persistent: true,
        messageId: `t-${i}`,
        headers: { "x-taskq-reason": "boom" },
      });
    await ch.checkQueue(`${queue}.dead`);
  });
}

async function requeueCut(at: CutAt, limit?: number) {
  const queue = tracked.name("requeue-cut");
  await park(queue);
  const cutter = new FrameCutter(at);
  await cutter.start();
  const target: BrokerTarget = { urls: [cutter.url, BROKER_URL], connectTimeoutMs: 5000 };
  const broker = await connect(target);
  try {
    const result = await requeueDeadAcross(
      broker,
      new Reconnector(target, { timeoutMs: 30_000 }),
      queue,
      limit === undefined ? {} : { limit },
    );
    expect(cutter.cut).toBe(true);
    cutter.stop();
    await waitFor(async () => (await brokerCounts(`${queue}.dead`)).unacked === 0, 30_000, "the held tasks back");
    const dead = (await drain(`${queue}.dead`)).map((m) => String(m.properties.messageId));
    const copies = (await drain(queue)).map((m) => String(m.properties.messageId));
    const inWork = new Set(copies);
    // Nothing lost: every task is still dead or has a copy in the work queue.
    expect(
      Array.from({ length: TASKS }, (_, i) => `t-${i + 1}`).filter((id) => !inWork.has(id) && !dead.includes(id)),
    ).toEqual([]);
    return { result, dead, copies, inWork, twice: dead.filter((id) => inWork.has(id)) };
  } finally {
    cutter.stop();
    await broker.close();
  }
}

describe("dead requeue across a cut connection: counts what was copied, never more than the limit", () => {
  test("--limit 100, the acks of the confirmed first batch cut off: the 100 moved are taken out of the dead queue all the same", async () => {
    const { result, dead, inWork, twice } = await requeueCut({ method: METHOD.basicAck, nth: 1, broker: "close" }, 100);
    expect(result.moved).toBe(100);
    expect(inWork.size).toBe(100);
    expect(twice).toEqual([]);
    expect(dead.length).toBe(TASKS - 100);
  }, 60_000);

  test("--limit 100, 50 copies sent and their confirms cut off, their tasks held by the dead link: no more than 100 tasks copied", async () => {
    const { result, inWork, twice } = await requeueCut({ method: METHOD.basicPublish, nth: 51, broker: "hold" }, 100);
    expect(inWork.size).toBeLessThanOrEqual(100);
    expect(inWork.size).toBe(99); // 50 that landed unconfirmed, 49 more
    expect(result.moved).toBe(49);
    expect(result.counts).toMatchObject({ uncertain: 51 });
    expect(twice.length).toBe(50); // copied, and back in the dead queue once the link was gone: said as perhaps
  }, 60_000);

  test("no limit, a batch's confirms cut off (link closed): every task moved, counted once, none left in the dead queue", async () => {
    const { result, dead, inWork } = await requeueCut({ method: METHOD.basicPublish, nth: 151, broker: "close" });
    expect(dead).toEqual([]);
    expect(inWork.size).toBe(TASKS);
    expect(result.moved).toBe(TASKS);
    expect(result.counts).toMatchObject({ uncertain: 0 });
  }, 60_000);
});
