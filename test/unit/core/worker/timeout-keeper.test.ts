import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import type { Broker } from "../../../../src/core/broker/connection.ts";
import type { Copy } from "../../../../src/core/failures/copy-table.ts";
import { DEFAULT_RETRY } from "../../../../src/core/failures/retry-policy.ts";
import { taskFromMessage } from "../../../../src/core/task.ts";
import {
  ConsumerTimedOut,
  consumerArguments,
  consumerTimeoutIn,
  raiseHint,
} from "../../../../src/core/worker/consumer-timeout.ts";
import type { WorkSession } from "../../../../src/core/worker/session.ts";
import type { SettleContext } from "../../../../src/core/worker/settle.ts";
import { roundOf } from "../../../../src/core/worker/taken-back.ts";
import { TimeoutKeeper, settleRun } from "../../../../src/core/worker/timeout-keeper.ts";
import type { WorkerEvent, WorkerSummary } from "../../../../src/core/worker/worker-state.ts";

const CLOSE_310 =
  'the broker closed the consuming channel: Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 5000 ms. This timeout value can be configured, see consumers doc guide to learn more"';

const broker = (version: string) =>
  ({ model: { connection: { serverProperties: { product: "RabbitMQ", version } } } }) as unknown as Broker;

describe("the broker's consumer timeout, as each version says and takes it", () => {
  test.each<[string, string, number | undefined]>([
    ["3.10 to 4.2: the channel's close", CLOSE_310, 5000],
    [
      "the same words without the value",
      "PRECONDITION_FAILED - delivery acknowledgement on channel 7 timed out",
      undefined,
    ],
  ])("%s is a ConsumerTimedOut", (_label, text, ms) => {
    expect(consumerTimeoutIn(text, "hint")).toMatchObject({ timeoutMs: ms, hint: "hint" });
  });

  test("any other close is not", () => {
    expect(
      consumerTimeoutIn("the broker closed the consuming channel: 404 (NOT-FOUND) no queue", "hint"),
    ).toBeUndefined();
  });

  test.each<[string, string, "classic" | "quorum", number | undefined, number | "auto", number, number | undefined]>([
    ["4.3 quorum, prefetch 1: the bound and the margin", "4.3.6", "quorum", 25_000, 1, 1, 85_000],
    ["4.3 quorum, prefetch 4 over 2: two rounds", "4.3.6", "quorum", 25_000, 4, 2, 110_000],
    ["4.3 quorum, auto: concurrency and the largest reserve (8)", "4.3.6", "quorum", 10_000, "auto", 3, 100_000],
    ["4.4 quorum", "4.4.0", "quorum", 1000, 1, 1, 61_000],
    ["4.3 classic: refused there (a 406), never set", "4.3.6", "classic", 25_000, 1, 1, undefined],
    ["4.0 quorum: ignored there, not set", "4.0.5", "quorum", 25_000, 1, 1, undefined],
    ["3.10 quorum", "3.10.8", "quorum", 25_000, 1, 1, undefined],
    ["no bound (no --timeout)", "4.3.6", "quorum", undefined, 1, 1, undefined],
  ])("x-consumer-timeout: %s", (_label, version, type, bound, prefetch, concurrency, want) => {
    const held = prefetch === "auto" ? concurrency + 8 : prefetch;
    expect(consumerArguments(broker(version), type, bound, held, concurrency)?.["x-consumer-timeout"]).toBe(want);
  });

  test.each<[string, "classic" | "quorum", RegExp]>([
    ["3.10.8", "classic", /^raise consumer_timeout in rabbitmq.conf above the longest task$/],
    [
      "4.0.5",
      "quorum",
      /a policy: rabbitmqctl set_policy NAME '\^q\\.x\$' '\{"consumer-timeout": MS\}' --apply-to queues$/,
    ],
    ["4.3.6", "quorum", /or run work with --timeout/],
    ["4.3.6", "classic", /a policy/],
  ])("how to raise it on %s %s", (version, type, want) => {
    expect(raiseHint(broker(version), type, "q.x")).toMatch(want);
  });
});

/** A session that records acks and requeues. */
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
  return { s, acked, requeued, lose: () => ((s as { open: boolean }).open = false) };
}

function rig(maxRedeliveries = 5) {
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
  const ctx: SettleContext = {
    policy: { ...DEFAULT_RETRY, maxRedeliveries },
    copier: { publish: async (c) => void copies.push(c) },
    summary,
    emit: (e) => void events.push(e),
    killed: new AbortController().signal,
    giveUp: new AbortController().signal,
  };
  const settling: Promise<void>[] = [];
  const keeper = new TimeoutKeeper(ctx, "q", (p) => void settling.push(p));
  return { ctx, keeper, copies, events, summary, settled: () => Promise.all(settling) };
}

const message = (tag: number, redelivered: boolean, headers: Record<string, unknown> = {}, id = "m1") =>
  ({
    content: Buffer.from("job"),
    fields: { deliveryTag: tag, redelivered, consumerTag: "c1" },
    properties: { headers, messageId: id },
  }) as unknown as ConsumeMessage;

const WHY = new ConsumerTimedOut("timed out", 5000, "raise consumer_timeout in rabbitmq.conf above the longest task");
const OK = { ok: true } as const;
const FAILED = { ok: false, reason: "exit 1", exitCode: 1 } as const;

/** A run of `m1` on a session the broker then closed for its timeout (3.10): its delivery taken back. */
function takenWhileRunning(r: ReturnType<typeof rig>) {
  const first = session();
  const run = message(1, false);
  r.keeper.timedOut(first.s, WHY, [run]);
  first.lose();
  return { first, run, task: taskFromMessage("q", run) };
}

describe("TimeoutKeeper: a task taken back while it ran here runs here once (taken-back.ts)", () => {
  test("its redelivery is held while it runs, then acked with the run's outcome; the run's own is not (its channel is gone)", async () => {
    const r = rig();
    const { first, run, task } = takenWhileRunning(r);
    const second = session();
    expect(r.keeper.claim(second.s, message(1, true))).toBe("settled");
    expect(second.acked).toEqual([]); // held
    expect(settleRun(r.ctx, first.s, run, task, OK)).toEqual({ settled: "acked" });
    expect(second.acked).toEqual([1]);
    expect(first.acked).toEqual([]);
    expect(r.summary).toMatchObject({ done: 1, lost: 0 });
    expect(r.keeper.claim(second.s, message(2, true))).toBe("settled"); // another duplicate: acked
    expect(second.acked).toEqual([1, 2]);
  });

  test("a failed run: one retry copy, made on the first held delivery; the other held ones acked", async () => {
    const r = rig();
    const { first, run, task } = takenWhileRunning(r);
    const second = session();
    r.keeper.claim(second.s, message(1, true));
    r.keeper.claim(second.s, message(2, true, { "x-taskq-redeliveries": 1, "x-taskq-attempt": 2 })); // a came-back copy of the same attempt
    expect(await settleRun(r.ctx, first.s, run, task, FAILED)).toMatchObject({ settled: "retry" });
    expect(r.copies.map((c) => [c.kind, c.properties.headers?.["x-taskq-attempt"]])).toEqual([["retry", 2]]);
    expect(second.acked.sort()).toEqual([1, 2]);
  });

  test("nothing came back by the run's end: its outcome is owed (counted lost), and the next delivery of it is settled with it, unrun", async () => {
    const r = rig();
    const { first, run, task } = takenWhileRunning(r);
    expect(settleRun(r.ctx, first.s, run, task, OK)).toMatchObject({ settled: "lost" });
    expect(r.summary).toMatchObject({ done: 0, lost: 1 });
    const later = session();
    expect(r.keeper.claim(later.s, message(9, true))).toBe("settled");
    await r.settled();
    expect(later.acked).toEqual([9]);
    expect(r.summary).toMatchObject({ done: 1, lost: 0 });
  });

  test("taken back maxRedeliveries times: the next delivery goes to .dead unrun, the reason naming consumer_timeout; the run's outcome is dropped", async () => {
    const r = rig(2);
    const { first, run, task } = takenWhileRunning(r);
    const second = session();
    const held = message(1, true);
    r.keeper.claim(second.s, held);
    r.keeper.timedOut(second.s, WHY, [held]); // the held delivery taken back too
    second.lose();
    const third = session();
    expect(r.keeper.claim(third.s, message(1, true))).toBe("settled");
    await r.settled();
    expect(r.copies.map((c) => [c.queue, c.properties.headers?.["x-taskq-reason"]])).toEqual([
      [
        "q.dead",
        "the broker took it back 2 times while it ran (unacked past its consumer_timeout of 5000 ms): raise consumer_timeout in rabbitmq.conf above the longest task",
      ],
    ]);
    expect(third.acked).toEqual([1]);
    expect(settleRun(r.ctx, first.s, run, task, OK)).toMatchObject({ settled: "lost" });
    expect(r.summary).toMatchObject({ done: 0, failed: 1, lost: 0 });
  });

  test.each<[string, ConsumeMessage]>([
    ["the next attempt's retry copy", message(5, false, { "x-taskq-attempt": 2, "x-taskq-last-error": "exit 1" })],
    [
      "a 'not now' copy (same attempt, one more deferral)",
      message(5, false, { "x-taskq-attempt": 1, "x-taskq-deferrals": 1 }),
    ],
    ["a first delivery with the same id (another publisher's)", message(5, false)],
    ["another task", message(5, true, {}, "m2")],
  ])("%s is not claimed", (_label, msg) => {
    const r = rig();
    takenWhileRunning(r);
    expect(r.keeper.claim(session().s, msg)).toBeUndefined();
  });

  test("a task taken back before it started runs when it comes back, uncounted; on 4.3 (the channel stays) it is given back at once", () => {
    const r = rig();
    const s = session();
    const waiting = message(3, false, {}, "m3");
    s.s.pending.push(waiting);
    r.keeper.timedOut(s.s, WHY, [waiting]);
    expect(s.requeued).toEqual([3]);
    expect(s.s.pending).toEqual([]);
    expect(r.keeper.claim(session().s, message(4, true, {}, "m3"))).toBe("runs");
    expect(r.keeper.claim(session().s, message(5, true, {}, "m3"))).toBeUndefined(); // forgotten: a return as any other
  });

  test("4.3: the run's channel stays, its ack goes out (ignored by the broker if it took the task back); a redelivery after is acked", () => {
    const r = rig();
    const s = session();
    const run = message(1, false);
    r.keeper.timedOut(s.s, WHY, [run]);
    expect(settleRun(r.ctx, s.s, run, taskFromMessage("q", run), OK)).toEqual({ settled: "acked" });
    expect(r.keeper.claim(s.s, message(2, true, { "x-acquired-count": 1 }))).toBe("settled");
    expect(s.acked).toEqual([1, 2]);
    expect(r.summary.done).toBe(1);
  });

  test("the worker says it once per takeback, with the broker's value and the hint", () => {
    const r = rig();
    takenWhileRunning(r);
    expect(r.events).toEqual([{ type: "consumer-timeout", queue: "q", tasks: 1, timeoutMs: 5000, hint: WHY.hint }]);
  });

  test.each<[Record<string, unknown>, string]>([
    [{}, "1/0"],
    [{ "x-taskq-attempt": 3, "x-taskq-redeliveries": 2 }, "1/0"],
    [{ "x-taskq-attempt": 2 }, "2/0"],
    [{ "x-taskq-attempt": 2, "x-taskq-deferrals": 1 }, "2/1"],
  ])("roundOf(%p) = %p", (headers, want) => {
    expect(roundOf(message(1, false, headers))).toBe(want);
  });
});
