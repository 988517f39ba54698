import { afterAll, expect, test } from "bun:test";
import * as amqp from "amqplib";
import { DEFAULT_RETRY } from "../../src/core/failures/retry-policy.ts";
import { startWorker } from "../../src/core/worker/create-worker.ts";
import type { WorkerEvent } from "../../src/core/worker/worker-state.ts";
import { BROKER_URL, deleteQueues, waitFor, withChannel } from "../support/broker.ts";

// A copy whose queue name amqplib cannot encode (a work queue of 250 bytes taken by core's own
// API, past the one name rule: its retry queue '<q>.retry.1000' is 261 bytes) is refused by
// amqplib before a byte is written, so no try can ever pass: the copy is given up at once and the
// task requeued (unacked until then: nothing lost), freeing its slot for the task behind it. It
// was tried again with backoff until a stop, the slot held, the task behind never run.

const queue = `copy-unenc-${process.pid}-`.padEnd(250, "z");
afterAll(() => deleteQueues([queue, `${queue}.dead`]));

test("a retry copy amqplib cannot encode: given up at once, the task requeued, the task behind it runs", async () => {
  const conn = await amqp.connect(BROKER_URL);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    ch.sendToQueue(queue, Buffer.from("fails"), { persistent: true });
    ch.sendToQueue(queue, Buffer.from("would-succeed"), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
  const runs: string[] = [];
  const events: WorkerEvent[] = [];
  const worker = await startWorker(
    { urls: [BROKER_URL], connectTimeoutMs: 5000 },
    {
      queue,
      queueType: "classic",
      prefetch: 1,
      concurrency: 1,
      retry: DEFAULT_RETRY,
      reportEveryMs: 0,
      onEvent: (e) => events.push(e),
    },
    async (task) => {
      const body = task.body.toString();
      runs.push(body);
      return body === "fails" ? { ok: false, reason: "boom" } : { ok: true };
    },
  );
  try {
    await waitFor(() => runs.includes("would-succeed"), 15_000, "the task behind the failed one to run");
    const failed = events.find((e) => e.type === "copy-failed");
    expect(failed).toBeDefined();
    expect(String((failed as { error: string }).error)).toContain("Field 'queue' is the wrong type");
    expect(runs[0]).toBe("fails");
  } finally {
    worker.stop();
  }
  const summary = await worker.done;
  expect(summary.requeued).toBeGreaterThanOrEqual(1);
  expect(summary.done).toBe(1);
  // nothing lost: the failed task is still in its queue or (its returns counted) in its dead queue
  const left = await withChannel(async (ch) => {
    const work = await ch.checkQueue(queue);
    const dead = await ch.checkQueue(`${queue}.dead`).catch(() => ({ messageCount: 0 }));
    return work.messageCount + dead.messageCount;
  });
  expect(left).toBe(1);
}, 40_000);
