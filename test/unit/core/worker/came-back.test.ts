import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import type { Copy } from "../../../../src/core/failures/copy-table.ts";
import { DEFAULT_RETRY } from "../../../../src/core/failures/retry-policy.ts";
import { REDELIVERIES_HEADER } from "../../../../src/core/headers.ts";
import { cameBack } from "../../../../src/core/worker/came-back.ts";
import type { WorkSession } from "../../../../src/core/worker/session.ts";
import type { SettleContext } from "../../../../src/core/worker/settle.ts";
import type { WorkerEvent, WorkerSummary } from "../../../../src/core/worker/worker-state.ts";

/** A session that records acks and requeues; `open` as the test says. */
function session(open = true) {
  const acked: number[] = [];
  const requeued: number[] = [];
  const s: WorkSession = {
    open,
    pending: [],
    lost: new Promise(() => {}),
    ack: (msg) => void acked.push(msg.fields.deliveryTag),
    requeue: (msg) => void requeued.push(msg.fields.deliveryTag),
    setPrefetch: () => {},
    cancel: async () => {},
    close: async () => {},
    redact: (t) => t,
  };
  return { s, acked, requeued };
}

function rig(publish: (c: Copy) => Promise<void> = async () => {}, maxRedeliveries = 3) {
  const copies: Copy[] = [];
  const events: WorkerEvent[] = [];
  const summary: WorkerSummary = {
    done: 0,
    failed: 0,
    retried: 0,
    requeued: 0,
    lost: 0,
    reconnects: 0,
    reason: "signal",
  };
  const giveUp = new AbortController();
  const ctx: SettleContext = {
    policy: { ...DEFAULT_RETRY, maxRedeliveries },
    copier: {
      publish: (c) => {
        copies.push(c);
        return publish(c);
      },
    },
    summary,
    emit: (e) => void events.push(e),
    killed: new AbortController().signal,
    giveUp: giveUp.signal,
  };
  return { ctx, copies, events, summary, giveUp };
}

const message = (redelivered: boolean, headers: Record<string, unknown> = {}, tag = 7) =>
  ({
    content: Buffer.from("boom"),
    fields: { deliveryTag: tag, redelivered },
    properties: { headers, messageId: "m1" },
  }) as unknown as ConsumeMessage;

describe("cameBack: a delivery that came back from a dead worker is settled unrun", () => {
  test.each<[string, boolean, Record<string, unknown>]>([
    ["a first delivery (the fast path)", false, {}],
    ["a copy counted below the limit", false, { [REDELIVERIES_HEADER]: 2 }],
    [
      "a 4.3 quorum return no worker failed (x-acquired-count, no x-delivery-count: a switch, a requeue)",
      true,
      { "x-acquired-count": 1 },
    ],
  ])("%s runs as any other", (_label, redelivered, headers) => {
    const r = rig();
    expect(cameBack(r.ctx, session().s, message(redelivered, headers), "q")).toBeUndefined();
    expect(r.copies).toEqual([]);
  });

  test.each<[string, number, number, boolean, Record<string, unknown>]>([
    ["classic: flagged, no count yet", 1, 2, true, {}],
    ["classic: flagged, counted once before", 2, 3, true, { [REDELIVERIES_HEADER]: 1, "x-taskq-attempt": 2 }],
    ["quorum 3.10/4.0: x-delivery-count 1", 1, 2, true, { "x-delivery-count": 1 }],
    [
      "quorum 4.3: a failed delivery (x-delivery-count 1, x-acquired-count 3)",
      1,
      2,
      true,
      { "x-delivery-count": 1, "x-acquired-count": 3 },
    ],
  ])(
    "%s: to the back of the queue with count %p (attempt %p), then the ack",
    async (_label, count, attempt, redelivered, headers) => {
      const r = rig();
      const { s, acked } = session();
      await cameBack(r.ctx, s, message(redelivered, headers), "q");
      expect(
        r.copies.map((c) => [
          c.kind,
          c.queue,
          c.properties.headers?.[REDELIVERIES_HEADER],
          c.properties.headers?.["x-taskq-attempt"],
        ]),
      ).toEqual([["cameBack", "q", count, attempt]]);
      expect(r.copies[0]?.properties.headers).not.toHaveProperty("x-delivery-count");
      expect(r.copies[0]?.properties.headers).not.toHaveProperty("x-acquired-count");
      expect(acked).toEqual([7]);
      expect(r.events).toEqual([expect.objectContaining({ type: "came-back", count, max: 3 })]);
      expect(r.summary.requeued).toBe(1);
    },
  );

  test("at the limit: to .dead with the reason, unrun; start and finish (dead) so every listener counts it", async () => {
    const r = rig();
    const { s, acked } = session();
    await cameBack(r.ctx, s, message(true, { [REDELIVERIES_HEADER]: 2, "x-taskq-attempt": 3 }), "q");
    expect(r.copies.map((c) => c.queue)).toEqual(["q.dead"]);
    expect(r.copies[0]?.properties.headers).toMatchObject({
      "x-taskq-reason":
        "its worker died 3 times in a row while running it (killed, out of memory, or cut off from the broker)",
      "x-taskq-attempts": 3,
      [REDELIVERIES_HEADER]: 3,
      "x-taskq-exit-code": null,
      "x-taskq-signal": null,
    });
    expect(acked).toEqual([7]);
    expect(r.events.map((e) => e.type)).toEqual(["start", "finish"]);
    expect(r.events[1]).toMatchObject({
      settled: "dead",
      deadQueue: "q.dead",
      error: "it came back 3 times in a row: --max-redeliveries 3",
    });
    expect(r.summary.failed).toBe(1);
  });

  test("a copy that carries the limit already (a hand-back at the limit) goes to .dead unflagged", async () => {
    const r = rig();
    await cameBack(r.ctx, session().s, message(false, { [REDELIVERIES_HEADER]: 3 }), "q");
    expect(r.copies.map((c) => c.queue)).toEqual(["q.dead"]);
  });

  test("the session lost before the copy's confirm: no ack, no requeue; the broker gives it again", async () => {
    const r = rig();
    const fake = session();
    const settling = cameBack(r.ctx, fake.s, message(true), "q");
    (fake.s as { open: boolean }).open = false;
    await settling;
    expect(fake.acked).toEqual([]);
    expect(fake.requeued).toEqual([]);
    expect(r.summary.lost).toBe(1);
  });

  test("a refused copy is tried again; a stop that waited long enough requeues the original", async () => {
    const r = rig(async () => {
      throw new Error("403 refused");
    });
    const fake = session();
    const settling = cameBack(r.ctx, fake.s, message(true), "q");
    setTimeout(() => r.giveUp.abort(), 50);
    await settling;
    expect(fake.acked).toEqual([]);
    expect(fake.requeued).toEqual([7]);
    expect(r.events.map((e) => e.type)).toEqual(["came-back", "copy-failed"]);
  });
});
