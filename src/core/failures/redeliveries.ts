/**
 * A task that kills its worker (the OOM killer, a segfault in a native module, `kill -9`) is never
 * settled: the broker hands it back when the worker's connection goes, and the next worker runs it
 * again. Handler failures are bounded by `maxAttempts`; this bounds the other way a run can end.
 *
 * Invariant: a task runs at most `maxRedeliveries` times in a row without an outcome (the
 * handler's success or failure): at its `maxRedeliveries`-th return from a worker that died (or
 * lost its connection) holding it, it goes to `<queue>.dead` unrun, with a reason `dead list`
 * shows. Never dropped, never looping, on a classic or a quorum queue of any version, whatever
 * arguments the queue was declared with. Shown: test/e2e/redeliveries.test.ts (3.10, 4.0, 4.3).
 *
 * How. The count lives in the task's own header (REDELIVERIES_HEADER): a classic queue keeps
 * none (only the `redelivered` flag), and a quorum queue's count belongs to one message and would
 * be lost with it. A delivery that came back (task.ts returnsOf) is not run: a confirmed copy with
 * the count raised takes its place at the back of the work queue, and only then is the original
 * acked (worker/came-back.ts). So the count is on the broker before the task can run again, and
 * the next death finds it there. A delivery at the limit goes to `.dead` instead, unrun.
 *
 * What counts: every return the broker tells of. A worker killed while it held a task prefetched
 * but not started counts for that task too. On a quorum queue of RabbitMQ 3.10 or 4.0 so would a
 * consumer switch's return, which is not told apart there (from 4.3 it is: x-acquired-count); the
 * worker's switches hand nothing back (worker/consumer.ts, its invariant).
 *
 * Why taskq and not the broker's own limit: RabbitMQ 4.0 gave quorum queues a delivery limit of 20
 * past which a task is dropped unless the queue dead-letters, and taskq's work queues (declared
 * before, or the tutorial's way) have no dead-letter target; arguments cannot be added to a
 * declared queue (a 406). Each copy is a new message whose broker count starts at 0, so that limit
 * is never reached.
 */
import type { Task } from "../task.ts";

/** Deaths in a row a task may cause before it goes to `.dead`: well below RabbitMQ 4's 20 (dead-peek.test.ts, 4.0). */
export const DEFAULT_MAX_REDELIVERIES = 5;

export type Redelivery =
  | { action: "run" }
  /** Back to the end of the queue, `count` on its copy. */
  | { action: "back"; count: number }
  | { action: "dead"; count: number; reason: string; why: string };

/**
 * What to do with a delivery before it runs. `returned`: the broker gave it back from a worker
 * that held it (task.ts returnsOf), so this delivery is counted in `task.redeliveries`.
 *
 * @example
 * judgeRedelivery({ redeliveries: 5 }, true, 5); // { action: "dead", count: 5, ... }
 */
export function judgeRedelivery(task: Pick<Task, "redeliveries">, returned: boolean, max: number): Redelivery {
  const count = task.redeliveries;
  if (count >= max)
    return {
      action: "dead",
      count,
      reason: deathReason(count),
      why: `it came back ${inARow(count)}: --max-redeliveries ${max}`,
    };
  return returned ? { action: "back", count } : { action: "run" };
}

/** The reason a dead task carries (x-taskq-reason). */
export const deathReason = (count: number): string =>
  `its worker died ${inARow(count)} while running it (killed, out of memory, or cut off from the broker)`;

const inARow = (count: number): string => (count === 1 ? "once" : `${count} times in a row`);
