import type { Broker } from "../broker/connection.ts";
import { TaskqError } from "../../errors.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue } from "../topology/queues.ts";
import { acrossFailovers } from "./dead-across.ts";
import { peekDead } from "./dead-peek.ts";
import { DeadBudget, type DeadCounts } from "./dead-budget.ts";
import { type DeadTask, deadTask, withPeekChannel } from "./dead-list.ts";
import { type DeadSelector, deadIdentity, selects } from "./dead-select.ts";

export interface DeadWalkOptions {
  /** Act on at most this many tasks. */
  limit?: number;
  /** Only the tasks it selects (default: all). */
  selector?: DeadSelector;
  /** The instant ages (`olderThanMs`) are judged at, epoch ms (default: when it starts). */
  now?: number;
  /** Told when the connection is lost (`purgeDeadAcross` goes on through the next one). */
  onLost?: (error: Error) => void;
}

export interface PurgeOptions extends DeadWalkOptions {
  /**
   * Delete only these tasks (`deadIdentity`, once per task: a preview's), none other: selected
   * tasks not among them are left and counted (`counts.added`), the ones not found are `gone`.
   */
  agreed?: readonly string[];
}

export interface PurgeDeadResult {
  deadQueue: string;
  exists: boolean;
  /** Deleted: the broker answered after the ack (`counts.done`). */
  purged: number;
  counts: DeadCounts;
}

/**
 * Deletes the selected dead tasks of `<queue>.dead`, and only them: each is fetched unacked and
 * acked (the ack is the delete); the others stay unacked and go back to their place when the
 * channel closes. Only the tasks present when it starts are looked at. `budget` carries the count
 * across passes. The invariant (see DeadBudget), whatever a lost connection did to an ack in flight:
 *
 *   purged <= tasks the broker deleted <= purged + counts.uncertain, and deleted <= the limit
 */
export async function purgeDead(
  broker: Broker,
  queue: string,
  options: PurgeOptions = {},
  budget = new DeadBudget(options.limit, options.agreed),
): Promise<PurgeDeadResult> {
  const deadQueue = deadQueueName(queue);
  const result = (exists: boolean): PurgeDeadResult => {
    const counts = budget.counts();
    return { deadQueue, exists, purged: counts.done, counts };
  };
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return result(false);
  const at = options.now ?? Date.now();
  // Agreed tasks from a whole preview (no limit): the whole queue is walked, to find the new ones.
  const walkAll = options.agreed !== undefined && options.limit === undefined;
  await withPeekChannel(broker, deadQueue, async (channel) => {
    const pass = budget.pass();
    try {
      for (let seen = 0; seen < info.messageCount && (walkAll || !budget.full); seen++) {
        const msg = await channel.get(deadQueue, { noAck: false });
        pass.answered(); // the broker handled every ack sent before this get: those tasks are gone
        if (msg === false) break;
        const task = deadTask(msg);
        if (!selects(options.selector ?? {}, task, at)) continue;
        const id = deadIdentity(task);
        budget.foundAgain(id);
        if (!budget.take(id)) continue;
        pass.acted(id); // before the ack: one cut half-way is uncertain too
        channel.ack(msg);
      }
      // A round trip after the last acks: a get goes to the queue itself, as they did, so its answer
      // comes after them (test/e2e/dead-cut.test.ts). What it fetches stays unacked and goes back to its place.
      await channel.get(deadQueue, { noAck: false });
      pass.answered();
    } catch (err) {
      pass.lost();
      throw err;
    }
  });
  return result(true);
}

/**
 * `purgeDead` across lost connections (see `acrossFailovers`), with one budget for every pass: an
 * ack lost with the connection leaves its task in the dead queue, where a next pass finds it and
 * deletes it if the limit allows (`DeadBudget`). Nothing unselected is touched.
 */
export async function purgeDeadAcross(
  broker: Broker,
  reconnector: Reconnector,
  queue: string,
  options: PurgeOptions = {},
): Promise<PurgeDeadResult> {
  const budget = new DeadBudget(options.limit, options.agreed);
  const walk = { ...options, now: options.now ?? Date.now() };
  return acrossFailovers(broker, reconnector, (current) => purgeDead(current, queue, walk, budget), {
    done: () => budget.full,
    onLost: options.onLost,
  });
}

export interface DeadPreview {
  deadQueue: string;
  exists: boolean;
  /** The tasks an action with the same options would take, in queue order. */
  tasks: DeadTask[];
}

/** What `purgeDead` or `requeueDead` would act on, changing nothing (a peek: `--dry-run`). */
export async function previewDead(broker: Broker, queue: string, options: DeadWalkOptions = {}): Promise<DeadPreview> {
  const deadQueue = deadQueueName(queue);
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return { deadQueue, exists: false, tasks: [] };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const at = options.now ?? Date.now();
  // A look that spends no delivery, whatever the version (dead-peek.ts).
  const select = (task: DeadTask) => selects(options.selector ?? {}, task, at);
  const { tasks, unread } = await peekDead(broker, deadQueue, info.messageCount, { limit, select });
  if (unread !== undefined) throw new TaskqError(`cannot look at '${deadQueue}' now: ${unread}`);
  return { deadQueue, exists: true, tasks };
}
