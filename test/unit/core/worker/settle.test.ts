import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import { DEFAULT_RETRY } from "../../../../src/core/failures/retry-policy.ts";
import { type SettleContext, settle } from "../../../../src/core/worker/settle.ts";
import type { WorkSession } from "../../../../src/core/worker/session.ts";
import { taskFromMessage } from "../../../../src/core/task.ts";
import type { WorkerSummary } from "../../../../src/core/worker/worker-state.ts";

/** An AbortSignal that counts the abort listeners left on it. */
function countedSignal() {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    if (args[0] === "abort") live.add(args[1]);
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    if (args[0] === "abort") live.delete(args[1]);
    remove(...args);
  }) as typeof signal.removeEventListener;
  return { signal, live };
}

const session = (): WorkSession => ({
  open: true,
  pending: [],
  lost: new Promise(() => {}),
  ack: () => {},
  requeue: () => {},
  setPrefetch: () => {},
  cancel: async () => {},
  close: async () => {},
  redact: (t) => t,
});

const message = (tag: number) =>
  ({
    content: Buffer.from("t"),
    fields: { deliveryTag: tag, redelivered: false },
    properties: { headers: {}, messageId: `m${tag}` },
  }) as unknown as ConsumeMessage;

describe("settle: a failed task's copy against the worker's long-lived signals", () => {
  test("10,000 failed tasks leave no abort listener behind on the stop's signal", async () => {
    const giveUp = countedSignal();
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
      policy: DEFAULT_RETRY,
      copier: { publish: async () => {} },
      summary,
      emit: () => {},
      killed: new AbortController().signal,
      giveUp: giveUp.signal,
    };
    const s = session();
    for (let tag = 1; tag <= 10_000; tag++) {
      const msg = message(tag);
      await settle(ctx, s, msg, taskFromMessage("q", msg), { ok: false, reason: "exit 1", exitCode: 1 });
    }
    expect(summary.retried).toBe(10_000);
    expect(giveUp.live.size).toBe(0);
  });
});
