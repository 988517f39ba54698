import { type Broker, whileUp } from "../broker/connection.ts";
import { queueError, withChannel } from "../topology/queues.ts";
import type { FamilyQueue } from "./family.ts";

/** Members that hold tasks (ready, unacked or held) or have consumers: what `remove` refuses to delete unforced. */
export function busyMembers(queues: readonly FamilyQueue[]): FamilyQueue[] {
  return queues.filter((q) => q.ready > 0 || (q.unacked ?? 0) > 0 || (q.held ?? 0) > 0 || q.consumers > 0);
}

/** The broker's 540 for if-empty or if-unused on a quorum queue (test/e2e/purge-remove.test.ts). */
const QUORUM_REFUSAL = /NOT_IMPLEMENTED.*not supported by quorum queues/;

export interface RemoveResult {
  deleted: Array<{ name: string; tasks: number }>;
  /** Unforced: members that got a task or a consumer between the check and the delete, kept. */
  kept: Array<{ name: string; why: string }>;
}

/**
 * Deletes `queues`. Unforced, each delete says if-empty and if-unused, so the broker itself
 * refuses one that got a task or a consumer after the check (406): that task is never lost, the
 * queue is kept and reported, and none after it is deleted. Forced, every queue goes with its
 * tasks. Retry and delay queues first, the work queue after them, the dead queue last: the work
 * queue goes only once no retry or delay queue is left to hand a task back to it. RabbitMQ refuses
 * if-empty and if-unused on a quorum queue (540, closing the connection): unforced, such a queue
 * is kept and reported, and none after it is deleted. Shown: test/e2e/purge-remove.test.ts.
 */
export async function removeQueues(
  broker: Broker,
  queues: readonly FamilyQueue[],
  force: boolean,
): Promise<RemoveResult> {
  const order: Record<FamilyQueue["role"], number> = { retry: 0, delay: 0, work: 1, dead: 2 };
  const sorted = [...queues].sort((a, b) => order[a.role] - order[b.role]);
  const result: RemoveResult = { deleted: [], kept: [] };
  for (const queue of sorted) {
    if (result.kept.length > 0) {
      result.kept.push({ name: queue.name, why: `not deleted, as '${result.kept[0]?.name}' is kept` });
      continue;
    }
    await withChannel(broker, async (channel) => {
      try {
        // whileUp: a refusal that closes the connection (a quorum queue's 540) rejects with the broker's reason.
        const ok = await whileUp(
          broker,
          channel.deleteQueue(queue.name, force ? {} : { ifEmpty: true, ifUnused: true }),
        );
        result.deleted.push({ name: queue.name, tasks: ok.messageCount });
      } catch (err) {
        const code = (err as { code?: number })?.code;
        if (!force && QUORUM_REFUSAL.test(String((err as Error)?.message))) {
          result.kept.push({
            name: queue.name,
            why: "a quorum queue: RabbitMQ deletes those only unconditionally; it was empty and unused when checked: --force deletes it",
          });
          return;
        }
        if (force || code !== 406) throw queueError(broker, queue.name, err);
        result.kept.push({ name: queue.name, why: "it got tasks or a consumer since the check" });
      }
    });
  }
  return result;
}
