import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { MessageProperties } from "amqplib";
import { connect } from "../../src/core/broker/reconnector.ts";
import { Copier } from "../../src/core/failures/copier.ts";
import { makeCopy } from "../../src/core/failures/copy-table.ts";
import { sendTasks } from "../../src/core/publish/send-tasks.ts";
import { BROKER_URL, deleteQueues, drain, uniqueQueue, waitFor, withChannel } from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";

// The invariant of names.ts (HOP_EXPIRY_MARGIN_MS): a copy into a hop queue is routed right after a
// declare of that queue, however long it waited to go out. Each test fails without it.

const queues: string[] = [];
afterAll(() => deleteQueues(queues));

async function* spaced(bodies: string[], gapMs: number): AsyncGenerator<Buffer> {
  for (const [i, body] of bodies.entries()) {
    if (i > 0) await Bun.sleep(gapMs);
    yield Buffer.from(body);
  }
}

describe("send --delay", () => {
  test("a delay queue that expires between two tasks: both tasks arrive", async () => {
    const queue = uniqueQueue("renew-send");
    queues.push(queue, `${queue}.delay.500`);
    const broker = await connect({ urls: [BROKER_URL], connectTimeoutMs: 5000 }, { name: "hop-renewal test" });
    try {
      // expires = max(2 · 500, 500 + 1000) = 1.5 s; the second task comes 3 s after the first, when
      // the queue is gone (the first task left it after 0.5 s).
      const result = await sendTasks(broker, spaced(["first", "second"], 3000), { queue, delayMs: 500, expiryMarginMs: 1000 });
      expect(result.sent).toBe(2);
    } finally {
      await broker.close();
    }
    const got: string[] = [];
    await waitFor(async () => {
      for (const m of await drain(queue)) got.push(m.content.toString());
      return got.length >= 2;
    }, 10_000, "both tasks in the work queue");
    expect(got.sort()).toEqual(["first", "second"]);
  }, 30_000);
});

// A memory alarm holds a copy on the client (the copies' connection is blocked) for longer than
// E − L after its queue's last declare, and lifts before E: the copy then lands in a queue that is
// still there but expires before the copy's TTL. Without a declare pipelined with the copy, the
// queue goes with the copy in it: confirmed, and lost.
const node = new IsolatedNode("hop-renewal", freePort(47));
const raise = () => node.ctl("set_vm_memory_high_watermark", "0.000001");
const clear = () => node.ctl("set_vm_memory_high_watermark", "0.4");

describe("retry copies during a memory alarm", () => {
  beforeAll(() => node.start(), 120_000);
  afterAll(async () => {
    await clear().catch(() => "");
    await node.wipe();
  }, 60_000);

  /** L = 6 s; expires = max(12, 6 + 14) = 20 s; the alarm lifts about 16 s after the declare. */
  const LEVEL = 6000;
  const MARGIN = 14_000;

  function copy(queue: string, kind: "retry" | "dead", id: string) {
    const properties = { messageId: id, headers: {} } as unknown as MessageProperties;
    const base = { queue, body: Buffer.from(id), attempt: 1, properties };
    return makeCopy(base, kind === "retry" ? { kind, levelMs: LEVEL, delayMs: LEVEL, nextAttempt: 2, deferrals: 0, reason: "test" } : { kind, outcome: { ok: false, reason: "probe" } });
  }

  test("a copy held past E − L lands after a fresh declare: it comes back to the work queue", async () => {
    const queue = uniqueQueue("renew-alarm");
    await withChannel((ch) => ch.assertQueue(queue, { durable: true }), node.url);
    let blocked = false;
    const copier = new Copier(() => connect({ urls: [node.url], connectTimeoutMs: 5000 }, { name: "hop-renewal test" }), {
      queueType: "classic",
      expiryMarginMs: MARGIN,
      onBlocked: (reason) => (blocked = reason !== null),
    });
    const pending: Array<Promise<unknown>> = [];
    try {
      await copier.publish(copy(queue, "retry", "before"), { queue }); // declares the retry queue: its lease starts
      const declaredAt = Date.now();
      await raise();
      // Dead copies until the broker blocks the connection (it says so after the first publish it holds).
      await waitFor(() => {
        if (!blocked) pending.push(copier.publish(copy(queue, "dead", `probe-${pending.length}`), { queue }).catch(() => {}));
        return blocked;
      }, 20_000, "the copies' connection blocked", 200);
      const held = copier.publish(copy(queue, "retry", "held"), { queue });
      pending.push(held);
      await Bun.sleep(Math.max(0, declaredAt + 16_000 - Date.now()));
      await clear();
      await held; // confirmed: in the retry queue
      const back: string[] = [];
      await waitFor(async () => {
        for (const m of await drain(queue, node.url)) back.push(String(m.properties.messageId));
        return back.includes("held");
      }, 20_000, "the held copy back in the work queue");
      expect(back).toContain("before");
    } finally {
      await clear().catch(() => "");
      await Promise.allSettled(pending);
      await copier.close();
    }
  }, 90_000);
});
