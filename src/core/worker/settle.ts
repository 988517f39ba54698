import type { ConsumeMessage } from "amqplib";
import { ABORTED, untilAborted } from "../../util/abort.ts";
import { sleep } from "../../util/clock.ts";
import { type Backoff, backoffDelay } from "../../util/backoff.ts";
import type { Copier } from "../failures/copier.ts";
import { type Copy, bareCopy, makeCopy } from "../failures/copy-table.ts";
import { UNENCODABLE } from "../failures/header-bytes.ts";
import { isFieldUnencodable } from "../broker/amqplib.ts";
import { type Decision, type RetryPolicy, decide } from "../failures/retry-policy.ts";
import type { WorkSession } from "./session.ts";
import type { Outcome, Task } from "../task.ts";
import type { Settlement, WorkerEvent, WorkerSummary } from "./worker-state.ts";
import type { TakenBack } from "./taken-back.ts";

export type Settled = { settled: Settlement; deadQueue?: string; retryInMs?: number; error?: string };

/** Waits between tries of a copy the broker refused (403, a nacking policy, a deleted queue, an outage). */
export const COPY_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.5 };

export interface SettleContext {
  policy: RetryPolicy;
  copier: Pick<Copier, "publish">;
  summary: WorkerSummary;
  emit: (event: WorkerEvent) => void;
  /** Aborted by a second signal: a handler that failed then was killed, not failing. */
  killed: AbortSignal;
  /** Aborted when a stop has waited long enough for refused copies: the task goes back to the queue. */
  giveUp: AbortSignal;
  /**
   * Tasks the broker took back by its consumer timeout while they ran (taken-back.ts): their runs settle through
   * timeout-keeper.ts.
   */
  takenBack?: TakenBack;
}

/**
 * Settles one finished task on the session that delivered it: done is acked;
 * failed gets its retry or dead copy, confirmed, and only then the ack. A copy
 * the broker refuses keeps the outcome decided for it: the copy alone is tried
 * again with backoff (said once), never the command. Only a stop that waited
 * long enough, or the session's loss, gives the task back to the broker.
 */
export function settle(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  outcome: Outcome,
): Settled | Promise<Settled> {
  // Done (every task, on the fast path) settles at once: no promise per task.
  if (!s.open) return lost(ctx, "finished");
  if (ctx.killed.aborted) {
    // A second signal: the process exits now, and an ack written now may never leave it (while a
    // line saying "done" would). Not the task's failure either: no copy; the broker redelivers it
    // (test/e2e/work-edges.test.ts).
    ctx.summary.lost++;
    return { settled: "lost", error: "stopped at once; the broker will redeliver it" };
  }
  if (outcome.ok) {
    s.ack(msg, s.pending.length > 0); // batch with other acks when more local work is queued
    ctx.summary.done++;
    return ACKED;
  }
  return settleFailed(ctx, s, msg, task, outcome);
}

const ACKED: Settled = Object.freeze({ settled: "acked" });

/** A failed task: its retry or dead copy, confirmed, then the ack. */
function settleFailed(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  outcome: Extract<Outcome, { ok: false }>,
): Promise<Settled> {
  const decision = decide(outcome, task, ctx.policy);
  const copy = makeCopy(
    task,
    decision.action === "retry"
      ? {
          kind: "retry",
          ...decision,
          reason: outcome.reason,
          ...(outcome.stderr !== undefined ? { stderr: outcome.stderr } : {}),
        }
      : { kind: "dead", outcome },
  );
  return settleCopy(ctx, s, msg, task, copy, decision);
}

/** `copy` (the retry or dead one `decision` asks for), confirmed, then the ack; the settlement. */
export async function settleCopy(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  copy: Copy,
  decision: Decision,
): Promise<Settled> {
  const failure = await publishUntilConfirmed(ctx, s, task, copy);
  if (!s.open) return lost(ctx, decision.action === "retry" ? "retry scheduled" : "dead-lettered");
  if (failure !== undefined) {
    s.requeue(msg);
    ctx.summary.requeued++;
    return { settled: "requeued", error: failure };
  }
  s.ack(msg, false);
  if (decision.action === "retry") {
    ctx.summary.retried++;
    return { settled: "retry", retryInMs: decision.delayMs };
  }
  ctx.summary.failed++;
  return { settled: "dead", deadQueue: copy.queue, error: decision.why };
}

/**
 * Publishes `copy` until confirmed; the error text when it gives up (session lost, stop waited long
 * enough). Only the broker's refusals are tried again: makeCopy's headers always fit what amqplib
 * can encode (fit-headers.ts), and should amqplib refuse them all the same, the same bytes could
 * never pass, so the copy goes at once with taskq's own headers alone, then the task goes back.
 * A method argument amqplib cannot encode (the copy's queue name) is given up at once: the task,
 * unacked until then, is requeued (test/e2e/copy-unencodable-queue.test.ts).
 */
export async function publishUntilConfirmed(
  ctx: SettleContext,
  s: WorkSession,
  task: Task,
  first: Copy,
): Promise<string | undefined> {
  let copy = first;
  for (let attempt = 1; ; attempt++) {
    try {
      // A copy held by an alarm (the broker blocks its connection) waits until the stop gives up.
      if ((await untilAborted(ctx.copier.publish(copy, task), ctx.giveUp)) === ABORTED)
        throw new Error("the stop stopped waiting for the copy");
      return undefined;
    } catch (err) {
      const error = s.redact(String((err as Error)?.message ?? err));
      if (!s.open || ctx.giveUp.aborted) return error;
      if (attempt === 1) ctx.emit({ type: "copy-failed", task, queue: copy.queue, error });
      if (isFieldUnencodable(error)) return error; // e.g. a queue name past 255 bytes: the task goes back
      if (UNENCODABLE.test(error)) {
        if (copy !== first) return error;
        copy = bareCopy(copy);
        continue;
      }
      await sleep(backoffDelay(attempt, COPY_BACKOFF), ctx.giveUp);
      if (!s.open || ctx.giveUp.aborted) return error;
    }
  }
}

/** After a stop, refused retry/dead copies are tried this long, then their tasks go back to the queue. */
export const COPY_STOP_GRACE_MS = 5000;

/** A hand-back whose copy is not confirmed by then becomes a plain requeue (counted as a redelivery). */
export const HAND_BACK_DEADLINE_MS = 10_000;

/**
 * Gives back a task delivered but never started (a stop) without spending one of its attempts: a
 * plain requeue marks it redelivered (classic) or raises x-delivery-count (quorum before 4.3;
 * x-acquired-count from 4.3: peek-mode.ts; test/e2e/dead-peek.test.ts). So a confirmed
 * copy with the same attempt goes to the back of the queue, then the original is acked; if the
 * copy fails or is not confirmed within HAND_BACK_DEADLINE_MS, the plain requeue.
 */
export async function handBack(ctx: SettleContext, s: WorkSession, msg: ConsumeMessage, task: Task): Promise<void> {
  const copy = makeCopy(task, { kind: "handBack" });
  // A copy that must leave some of the task's own headers out (fit-headers.ts): the plain requeue keeps them.
  const copied = copy.dropped === undefined && (await confirmedWithin(ctx, copy, task));
  if (!s.open) return; // the broker redelivers the original too: a duplicate, never a loss
  if (copied) s.ack(msg, false);
  else s.requeue(msg);
  ctx.summary.requeued++;
}

/** Whether `copy` was confirmed within HAND_BACK_DEADLINE_MS. */
async function confirmedWithin(ctx: SettleContext, copy: Copy, task: Task): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("not confirmed in time")), HAND_BACK_DEADLINE_MS);
  });
  const copied = await Promise.race([ctx.copier.publish(copy, task), deadline]).then(
    () => true,
    () => false,
  );
  clearTimeout(timer);
  return copied;
}

function lost(ctx: SettleContext, what: string): Settled {
  ctx.summary.lost++;
  return {
    settled: "lost",
    error: `${what}, but the connection that delivered it is gone; the broker will redeliver it`,
  };
}
