import { createHash } from "node:crypto";
import type { DeadTask } from "./dead-list.ts";

/**
 * Which dead tasks `dead requeue` and `dead purge` act on: every field given must match (AND);
 * none given selects every task.
 */
export interface DeadSelector {
  /** The task's message id, exactly. */
  id?: string;
  /** A part of its reason, case-insensitive: reasons are taskq's own sentences ("command exited with code 3"). */
  reason?: string;
  /** The handler's exit code, exactly; a task that died of a signal or a timeout has none. */
  exitCode?: number;
  /** Dead for longer than this (by x-taskq-failed-at); a task without that header is never selected by age. */
  olderThanMs?: number;
}

export type SelectableTask = Pick<DeadTask, "messageId" | "reason" | "exitCode" | "failedAt">;

/** Whether `selector` selects `task`, at time `nowMs` (epoch ms). */
export function selects(selector: DeadSelector, task: SelectableTask, nowMs: number): boolean {
  if (selector.id !== undefined && task.messageId !== selector.id) return false;
  if (selector.reason !== undefined && !(task.reason ?? "").toLowerCase().includes(selector.reason.toLowerCase()))
    return false;
  if (selector.exitCode !== undefined && task.exitCode !== selector.exitCode) return false;
  if (selector.olderThanMs !== undefined) {
    const failedAt = task.failedAt === undefined ? Number.NaN : Date.parse(task.failedAt);
    if (Number.isNaN(failedAt) || nowMs - failedAt <= selector.olderThanMs) return false;
  }
  return true;
}

/** True when the selector selects every task (no field given). */
export const selectsAll = (selector: DeadSelector): boolean =>
  selector.id === undefined &&
  selector.reason === undefined &&
  selector.exitCode === undefined &&
  selector.olderThanMs === undefined;

/**
 * One dead task as acted on: its id and when it died, so a task whose ack was lost with a
 * connection is known again on the next one. A task moved, run and failed again is back with a
 * new failure time: another key. Undefined without a message id (then it cannot be told apart).
 */
export function deadKey(task: Pick<SelectableTask, "messageId" | "failedAt">): string | undefined {
  return task.messageId === undefined ? undefined : `${task.messageId}\u0000${task.failedAt ?? ""}`;
}

/**
 * Who a dead task is, for a budget across passes and for matching a preview: its key, or without
 * a message id, a hash of its body, reason and failure time (tasks alike in all three are taken
 * for one, as tasks with one key are).
 */
export function deadIdentity(task: Pick<DeadTask, "messageId" | "failedAt" | "reason" | "body">): string {
  const key = deadKey(task);
  if (key !== undefined) return `id\u0000${key}`;
  const hash = createHash("sha256")
    .update(task.body)
    .update(`\u0000${task.reason ?? ""}\u0000${task.failedAt ?? ""}`)
    .digest("hex");
  return `body\u0000${hash}`;
}
