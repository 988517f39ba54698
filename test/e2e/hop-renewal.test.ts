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
      const result = await sendTasks(broker, spaced(["first", "second"], 3000), {
        queue,
        delayMs: 500,
        expiryMarginMs: 1000,
      });
      expect(result.sent).toBe(2);
    } finally {
      await broker.close();
    }
    const got: string[] = [];
    await waitFor(
      async () => {
        for (const m of await drain(queue)) got.push(m.content.toString());
        return got.length >= 2;
      },
      10_000,
      "both tasks in the work queue",
    );
    expect(got.sort()).toEqual(["first", "second"]);
  }, 30_000);
});

describe("send --delay, the delay queue going away under the send", () => {
  async function arrived(queue: string, bodies: string[]): Promise<string[]> {
    const got: string[] = [];
    await waitFor(
      async () => {
        for (const m of await drain(queue)) got.push(m.content.toString());
        return bodies.every((b) => got.includes(b));
      },
      15_000,
      `${bodies.join(", ")} in the work queue`,
    );
    return got;
  }

  test("deleted by hand mid-send: every task arrives", async () => {
    const queue = uniqueQueue("renew-deleted");
    const delay = `${queue}.delay.1000`;
    queues.push(queue, delay);
    async function* tasks() {
      yield Buffer.from("t1");
      await Bun.sleep(1500); // t1 back in the work queue
      await withChannel((ch) => ch.deleteQueue(delay));
      for (const body of ["t2", "t3", "t4", "t5", "t6"]) yield Buffer.from(body);
    }
    const broker = await connect({ urls: [BROKER_URL], connectTimeoutMs: 5000 }, { name: "hop-renewal test" });
    try {
      // A declare is due every E/8 = 2.6 s: the deletion falls between two.
      expect((await sendTasks(broker, tasks(), { queue, delayMs: 1000, expiryMarginMs: 20_000 })).sent).toBe(6);
    } finally {
      await broker.close();
    }
    expect(await arrived(queue, ["t1", "t2", "t3", "t4", "t5", "t6"])).toHaveLength(6);
  }, 30_000);

  test("expired by design while the source is quiet, before it ends: the send succeeds", async () => {
    const queue = uniqueQueue("renew-idle");
    queues.push(queue, `${queue}.delay.1000`);
    async function* tasks() {
      yield Buffer.from("t1");
      yield Buffer.from("t2");
      await Bun.sleep(5000); // past E = 3 s: the delay queue went, t1 and t2 long back
    }
    const broker = await connect({ urls: [BROKER_URL], connectTimeoutMs: 5000 }, { name: "hop-renewal test" });
    try {
      expect((await sendTasks(broker, tasks(), { queue, delayMs: 1000, expiryMarginMs: 2000 })).sent).toBe(2);
    } finally {
      await broker.close();
    }
    expect(await arrived(queue, ["t1", "t2"])).toHaveLength(2);
  }, 30_000);
});

// A memory alarm holds a copy, on the client (it knows the connection is blocked) or in the broker
// (the first publish after the alarm begins: the broker handles the declare before it at once,
// then holds it unread until the alarm lifts). Lifted between E − L and E after that declare, the
// copy lands in a queue that is still there but expires before the copy's TTL; lifted after E, it
// lands in no queue. Either way it must come back to the work queue.
const node = new IsolatedNode("hop-renewal", freePort(47));
const { raiseMemoryAlarm: raise, clearMemoryAlarm: clear, memoryAlarmOn: alarmOn } = node;

async function backInQueue(queue: string, ids: string[]): Promise<string[]> {
  const back: string[] = [];
  await waitFor(
    async () => {
      for (const m of await drain(queue, node.url)) back.push(m.content.toString()); // copies' bodies are their ids
      return ids.every((id) => back.includes(id));
    },
    25_000,
    `${ids.join(", ")} back in the work queue`,
  );
  return back;
}

describe("copies held by a memory alarm", () => {
  beforeAll(() => node.start(), 120_000);
  afterAll(async () => {
    await clear().catch(() => "");
    await node.wipe();
  }, 60_000);

  /** L = 6 s; E = max(12, 6 + 14) = 20 s; the alarm lifts about 16 s after the declare. */
  const LEVEL = 6000;
  const MARGIN = 14_000;

  function copy(queue: string, kind: "retry" | "dead", id: string) {
    const properties = { messageId: id, headers: {} } as unknown as MessageProperties;
    const base = { queue, body: Buffer.from(id), attempt: 1, properties };
    return makeCopy(
      base,
      kind === "retry"
        ? { kind, levelMs: LEVEL, delayMs: LEVEL, nextAttempt: 2, deferrals: 0, reason: "test" }
        : { kind, outcome: { ok: false, reason: "probe" } },
    );
  }

  test.each([
    ["in the client (the connection known blocked)", true],
    ["in the broker (the first publish after the alarm began)", false],
  ])(
    "a retry copy held %s past E − L comes back to the work queue",
    async (_where, probe) => {
      const queue = uniqueQueue("renew-alarm");
      await withChannel((ch) => ch.assertQueue(queue, { durable: true }), node.url);
      let blocked = false;
      const copier = new Copier(
        () => connect({ urls: [node.url], connectTimeoutMs: 5000 }, { name: "hop-renewal test" }),
        {
          queueType: "classic",
          expiryMarginMs: MARGIN,
          onBlocked: (reason) => (blocked = reason !== null),
        },
      );
      const pending: Array<Promise<unknown>> = [];
      try {
        await copier.publish(copy(queue, "retry", "before"), { queue }); // declares the retry queue: its lease starts
        const declaredAt = Date.now();
        await raise();
        await waitFor(alarmOn, 20_000, "the memory alarm");
        // With `probe`: dead copies until the broker says the connection is blocked, so the client holds the next.
        if (probe) {
          await waitFor(
            () => {
              if (!blocked)
                pending.push(copier.publish(copy(queue, "dead", `probe-${pending.length}`), { queue }).catch(() => {}));
              return blocked;
            },
            20_000,
            "the copies' connection blocked",
            200,
          );
        }
        const held = copier.publish(copy(queue, "retry", "held"), { queue });
        pending.push(held);
        await Bun.sleep(Math.max(0, declaredAt + 16_000 - Date.now()));
        await clear();
        await held; // confirmed: placed
        expect(await backInQueue(queue, ["held", "before"])).toContain("held");
      } finally {
        await clear().catch(() => "");
        await Promise.allSettled(pending);
        await copier.close();
      }
    },
    90_000,
  );

  test("send --delay: tasks held by an alarm past E − L and past E all arrive", async () => {
    const queue = uniqueQueue("renew-alarm-send");
    // L = 1 s, E = max(2, 1 + 2) = 3 s: 'two' is held in the broker about 8 s after its declare.
    async function* tasks() {
      yield Buffer.from("one");
      await Bun.sleep(500);
      await raise();
      await waitFor(alarmOn, 20_000, "the memory alarm");
      yield Buffer.from("two");
      await Bun.sleep(8000);
      await clear();
      yield Buffer.from("three");
    }
    const broker = await connect({ urls: [node.url], connectTimeoutMs: 5000 }, { name: "hop-renewal test" });
    try {
      const result = await sendTasks(broker, tasks(), { queue, delayMs: 1000, expiryMarginMs: 2000 });
      expect(result.sent).toBe(3);
    } finally {
      await clear().catch(() => "");
      await broker.close();
    }
    expect(await backInQueue(queue, ["one", "two", "three"])).toEqual(expect.arrayContaining(["one", "two", "three"]));
  }, 90_000);
});
