import type { DeadCounts } from "../core/admin/dead-budget.ts";

/** How a purge was bounded: `--limit`, and the count agreed to at the prompt (the previewed tasks). */
export interface PurgeBound {
  limit?: number;
  agreed?: number;
}

const tasks = (n: number): string => `${n} task${n === 1 ? "" : "s"}`;

/**
 * What `dead purge` did, after its first line (`purged N task(s)`: the deletes the broker
 * answered): the deletes a lost connection left unknown, the ones it cut off that still count
 * against what was agreed, and how the dead queue changed since the preview.
 */
export function purgeNotes(deadQueue: string, counts: DeadCounts, bound: PurgeBound): string[] {
  const lines: string[] = [];
  if (counts.uncertain > 0) {
    lines.push(
      `perhaps ${counts.uncertain} more: the connection was lost after ${counts.uncertain === 1 ? "a delete was" : "deletes were"} sent and before the broker answered`,
    );
  }
  if (counts.cutOff > 0 && bound.agreed !== undefined) {
    const them = counts.cutOff === 1 ? "it" : "them";
    lines.push(
      `${tasks(counts.cutOff)} of the ${bound.agreed} agreed to left in '${deadQueue}': a lost connection cut off ${counts.cutOff === 1 ? "its delete" : "their deletes"}, which still count${counts.cutOff === 1 ? "s" : ""} against the ${bound.agreed} (purge again to delete ${them})`,
    );
  } else if (counts.cutOff > 0 && counts.full && bound.limit !== undefined) {
    const deletes = counts.cutOff === 1 ? "1 delete" : `${counts.cutOff} deletes`;
    lines.push(
      `${deletes} cut off by a lost connection count${counts.cutOff === 1 ? "s" : ""} against --limit ${bound.limit} all the same: never more than ${bound.limit} deleted`,
    );
  }
  const changes: string[] = [];
  if (counts.added > 0)
    changes.push(`${counts.added} selected ${counts.added === 1 ? "task not in it was" : "tasks not in it were"} left`);
  if (counts.gone > 0)
    changes.push(`${counts.gone} ${counts.gone === 1 ? "task in it was" : "tasks in it were"} gone already`);
  if (changes.length > 0) lines.push(`the dead queue changed since the preview: ${changes.join("; ")}`);
  return lines;
}

/**
 * What `dead requeue` did, after its first line (`moved N task(s)`: the copies the broker
 * confirmed): copies a lost connection left unknown, and moved tasks perhaps still dead too.
 */
export function requeueNotes(deadQueue: string, queue: string, counts: DeadCounts, ackUncertain = 0): string[] {
  const lines: string[] = [];
  if (counts.uncertain > 0) {
    const one = counts.uncertain === 1;
    lines.push(
      `perhaps ${counts.uncertain} more copied to '${queue}': the connection was lost before the broker confirmed ${one ? "the copy" : "the copies"}; ${one ? "that task stays" : "those tasks stay"} in '${deadQueue}'`,
    );
  }
  if (ackUncertain > 0) {
    const one = ackUncertain === 1;
    lines.push(
      `perhaps ${ackUncertain} of the moved still in '${deadQueue}' too: the connection was lost before the broker answered ${one ? "its removal" : "their removal"}`,
    );
  }
  return lines;
}
