import type { ConsumeMessage } from "amqplib";
import { now } from "../../util/clock.ts";
import type { Handler, Outcome, Task } from "../task.ts";
import type { WorkSession } from "./session.ts";
import type { SettleContext, Settled } from "./settle.ts";
import { settleRun } from "./timeout-keeper.ts";
import type { TaskSlot } from "./task-slot.ts";
import { heldUntil, runWithTimeout } from "./timed-run.ts";

/**
 * Runs one task: its handler, then settle.ts (through settleRun: a task the broker took back by
 * its consumer timeout settles as timeout-keeper.ts says), then the finish event, then its slot is freed.
 * A done task settles at once (no promise per task); a failed one once its copy is confirmed.
 * With `timeoutMs` (the library's), the task fails at the deadline and its slot stays taken until
 * the handler returns (timed-run.ts); without it, no timer and no listener per task.
 */
export function runTask(
  ctx: SettleContext,
  handler: Handler,
  taskSlot: TaskSlot,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  timeoutMs?: number,
): void {
  const startedAt = now();
  ctx.emit({ type: "start", task, at: startedAt });
  const timed = timeoutMs === undefined ? undefined : runWithTimeout(handler, task, ctx.killed, timeoutMs);
  const slot = timed ? heldUntil(taskSlot, timed.returned) : taskSlot;
  const finished = (outcome: Outcome): void => {
    const done = (r: Settled) => {
      try {
        ctx.emit({ type: "finish", task, outcome, startedAt, at: now(), ...r });
      } finally {
        slot.freed(startedAt);
      }
    };
    let settled: Settled | Promise<Settled>;
    try {
      settled = settleRun(ctx, s, msg, task, outcome);
    } catch (err) {
      settled = Promise.reject(err);
    }
    if (!(settled instanceof Promise)) {
      done(settled);
      return;
    }
    settled.then(done, (err: unknown) => {
      try {
        slot.fail(err as Error);
      } finally {
        slot.freed(startedAt);
      }
    });
  };
  let running: Promise<Outcome>;
  try {
    running = timed ? timed.outcome : handler(task, ctx.killed);
  } catch (err) {
    running = Promise.reject(err); // a handler that throws before it returns a promise fails its task, not the worker
  }
  running.then(finished, (err: unknown) =>
    finished({ ok: false, reason: `handler error: ${(err as Error)?.message ?? err}` }),
  );
}
