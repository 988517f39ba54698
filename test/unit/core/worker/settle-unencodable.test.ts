import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import type { Copy } from "../../../../src/core/failures/copy-table.ts";
import { DEFAULT_RETRY } from "../../../../src/core/failures/retry-policy.ts";
import { type SettleContext, handBack, settle } from "../../../../src/core/worker/settle.ts";
import type { WorkSession } from "../../../../src/core/worker/session.ts";
import { taskFromMessage } from "../../../../src/core/task.ts";
import type { WorkerEvent, WorkerSummary } from "../../../../src/core/worker/worker-state.ts";
import { encodeHeaderFrame } from "../../../support/amqplib-encoder.ts";

// A copy amqplib cannot encode can never be sent as it is: it must not be tried again for ever.

function harness(publish: (copy: Copy) => Promise<void>) {
  const acked: number[] = [];
  const requeued: number[] = [];
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
  const ctx: SettleContext = {
    policy: { ...DEFAULT_RETRY, maxAttempts: 1 },
    copier: { publish },
    summary,
    emit: (e) => events.push(e),
    killed: new AbortController().signal,
    giveUp: new AbortController().signal,
  };
  const s: WorkSession = {
    open: true,
    pending: [],
    lost: new Promise(() => {}),
    ack: (msg) => void acked.push(msg.fields.deliveryTag),
    requeue: (msg) => void requeued.push(msg.fields.deliveryTag),
    setPrefetch: () => {},
    cancel: async () => {},
    close: async () => {},
    redact: (t) => t,
  };
  return { ctx, s, acked, requeued, events, summary };
}

const message = (headers: Record<string, unknown>) =>
  ({
    content: Buffer.from("t"),
    fields: { deliveryTag: 7, redelivered: false },
    properties: { headers, messageId: "m7" },
  }) as unknown as ConsumeMessage;

/** Publishes as amqplib would: its encoder's error for headers it cannot encode, as the Publisher words it. */
const amqplibPublish = (copy: Copy) => {
  try {
    encodeHeaderFrame(copy.properties);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(new Error(`could not publish: ${(err as Error).message}`));
  }
};

describe("settle: a copy amqplib refuses to encode", () => {
  test("is sent at once with taskq's own headers alone (should a copy that passed fit-headers be refused), then acked: dead, not stuck", async () => {
    const sent: Copy[] = [];
    const h = harness(async (copy) => {
      sent.push(copy);
      // an amqplib stricter than header-bytes.ts knows: refuses any copy with a header not taskq's
      if (Object.keys(copy.properties.headers ?? {}).some((k) => !k.startsWith("x-taskq-")))
        throw new Error(
          "could not publish: Encoded field table (headers or arguments) exceeds the 65536 byte encoding buffer",
        );
    });
    const msg = message({ tenant: "a", trace: "t-1" });
    const started = Date.now();
    const settled = await settle(h.ctx, h.s, msg, taskFromMessage("q", msg), { ok: false, reason: "boom" });
    expect(Date.now() - started).toBeLessThan(500); // no backoff
    expect(settled).toMatchObject({ settled: "dead" });
    expect(h.acked).toEqual([7]);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.dropped).toEqual(["tenant", "trace"]);
    expect(sent[1]?.properties.headers).toMatchObject({ "x-taskq-reason": "boom", "x-taskq-attempts": 1 });
    expect(String(sent[1]?.properties.headers?.["x-taskq-dropped"])).toContain("tenant (");
    expect(h.events.filter((e) => e.type === "copy-failed")).toHaveLength(1); // said once
  });

  test("refused even so: the task goes back to its queue at once, never retried for ever", async () => {
    let tries = 0;
    const h = harness(async () => {
      tries++;
      throw new Error("could not publish: Unknown type to encode: bigint");
    });
    const msg = message({});
    const settled = await settle(h.ctx, h.s, msg, taskFromMessage("q", msg), { ok: false, reason: "boom" });
    expect(settled).toMatchObject({ settled: "requeued" });
    expect(tries).toBe(2);
    expect(h.requeued).toEqual([7]);
  });

  test("with the real encoder: a 200 KB reason on a task with 65,500 bytes of its own headers goes dead in one publish", async () => {
    const sent: Copy[] = [];
    const h = harness(async (copy) => {
      sent.push(copy);
      await amqplibPublish(copy);
    });
    const msg = message({ big: "b".repeat(65_500) });
    expect(
      await settle(h.ctx, h.s, msg, taskFromMessage("q", msg), {
        ok: false,
        reason: "r".repeat(200_000),
        stderr: "s".repeat(200_000),
      }),
    ).toMatchObject({ settled: "dead" });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.dropped).toEqual(["big"]);
  });
});

describe("handBack: a copy that would leave some of the task's own headers out", () => {
  test("is not sent: the plain requeue keeps the task whole", async () => {
    const sent: Copy[] = [];
    const h = harness(async (copy) => void sent.push(copy));
    const msg = message({ big: "b".repeat(65_530) });
    await handBack(h.ctx, h.s, msg, taskFromMessage("q", msg));
    expect(sent).toEqual([]);
    expect(h.requeued).toEqual([7]);
    expect(h.acked).toEqual([]);
  });

  test("one that fits whole is copied, then the original acked", async () => {
    const sent: Copy[] = [];
    const h = harness(async (copy) => void sent.push(copy));
    const msg = message({ big: "b".repeat(60_000) });
    await handBack(h.ctx, h.s, msg, taskFromMessage("q", msg));
    expect(sent).toHaveLength(1);
    expect(h.acked).toEqual([7]);
  });
});
