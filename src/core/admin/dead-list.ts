import type { Broker } from "../broker/connection.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue } from "../topology/queues.ts";
import { peekDead } from "./dead-peek.ts";
import type { DeadTask } from "./dead-task.ts";
import type { PeekMode } from "./peek-mode.ts";

export { type DeadTask, deadTask } from "./dead-task.ts";
export { withPeekChannel } from "./dead-peek.ts";

export interface DeadList {
  deadQueue: string;
  /** False when `<queue>.dead` was never declared (no task ever failed). */
  exists: boolean;
  /** Ready tasks in the dead queue when listing began. */
  total: number;
  /** Consumers on the dead queue when listing began. */
  consumers: number;
  tasks: DeadTask[];
  /** How the tasks looked at were left in place (peek-mode.ts); unset when there were none. */
  mode?: PeekMode;
  /** Why no task was read (`moveAtMost`); unset when they were. */
  unread?: string;
}

/**
 * Shows up to `limit` dead tasks of `<queue>.dead` without removing them and without spending a
 * delivery on any (dead-peek.ts): they stay, in their order, with their headers. `moveAtMost`:
 * where a look must move the tasks (a quorum queue before RabbitMQ 4.3), read none when more than
 * this many would go round.
 *
 * @example
 * const { tasks } = await listDead(broker, "task_queue", 20);
 */
export async function listDead(
  broker: Broker,
  queue: string,
  limit: number,
  options: { moveAtMost?: number } = {},
): Promise<DeadList> {
  const deadQueue = deadQueueName(queue);
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return { deadQueue, exists: false, total: 0, consumers: 0, tasks: [] };
  const peek = await peekDead(broker, deadQueue, info.messageCount, { limit, ...options });
  const list: DeadList = {
    deadQueue,
    exists: true,
    total: Math.max(info.messageCount, peek.tasks.length),
    consumers: info.consumerCount,
    tasks: peek.tasks,
  };
  if (peek.mode !== undefined) list.mode = peek.mode;
  if (peek.unread !== undefined) list.unread = peek.unread;
  return list;
}
