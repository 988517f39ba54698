import type { ConsumeMessage } from "amqplib";
import { now } from "../../util/clock.ts";
import { makeCopy } from "../failures/copy-table.ts";
import { DEFAULT_MAX_REDELIVERIES, type Redelivery, judgeRedelivery } from "../failures/redeliveries.ts";
import { REDELIVERIES_HEADER } from "../headers.ts";
import { type Outcome, type Task, returnsOf, taskFromMessage } from "../task.ts";
import type { WorkSession } from "./session.ts";
import { type SettleContext, publishUntilConfirmed, settleCopy } from "./settle.ts";

/**
 * What a delivery that came back from a dead worker needs before it may run (the rule and its
 * invariant: failures/redeliveries.ts): undefined when it runs as any other (the fast path: no
 * `redelivered` flag, no count on it), else the work that settles it here, unrun.
 */
export function cameBack(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  queue: string,
): Promise<void> | undefined {
  if (!msg.fields.redelivered && msg.properties.headers?.[REDELIVERIES_HEADER] === undefined) return undefined;
  const task = taskFromMessage(queue, msg);
  const max = ctx.policy.maxRedeliveries ?? DEFAULT_MAX_REDELIVERIES;
  const verdict = judgeRedelivery(task, returnsOf(msg) > 0, max);
  if (verdict.action === "run") return undefined;
  return verdict.action === "dead" ? toDead(ctx, s, msg, task, verdict) : toBack(ctx, s, msg, task, verdict.count, max);
}

/**
 * Back to the end of the queue: a confirmed copy with the count, then the ack (the count is on the
 * broker before the task can run again). A copy the broker refuses is tried again with backoff
 * (publishUntilConfirmed); a stop that waited long enough gives the original back instead (a plain
 * requeue: it comes back flagged and is counted again, never lost); a lost session leaves it to the
 * broker.
 */
async function toBack(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  count: number,
  max: number,
): Promise<void> {
  ctx.emit({ type: "came-back", task, count, max });
  const failure = await publishUntilConfirmed(ctx, s, task, makeCopy(task, { kind: "cameBack", redeliveries: count }));
  if (!s.open) return void ctx.summary.lost++;
  if (failure !== undefined) s.requeue(msg);
  else s.ack(msg, false);
  ctx.summary.requeued++;
}

/** To `.dead`, as a task that failed for good: `start` and `finish` around it, so every listener counts it. */
async function toDead(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  verdict: Extract<Redelivery, { action: "dead" }>,
): Promise<void> {
  const startedAt = now();
  ctx.emit({ type: "start", task, at: startedAt });
  const outcome: Outcome = { ok: false, reason: verdict.reason, exitCode: null, signal: null };
  // Its attempts: those it had; this return raised `attempt` for a run that never comes.
  const source = {
    body: task.body,
    queue: task.queue,
    properties: task.properties,
    redeliveries: verdict.count,
    attempt: task.attempt - (returnsOf(msg) > 0 ? 1 : 0),
  };
  const settled = await settleCopy(ctx, s, msg, task, makeCopy(source, { kind: "dead", outcome }), {
    action: "dead",
    why: verdict.why,
  });
  ctx.emit({ type: "finish", task, outcome, startedAt, at: now(), ...settled });
}
