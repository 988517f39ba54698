import type { GetMessage } from "amqplib";
import type { Broker } from "../broker/connection.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { makeCopy } from "../failures/copy-table.ts";
import { Publisher } from "../publish/publisher.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue, declareQueues } from "../topology/queues.ts";
import { acrossFailovers } from "./dead-across.ts";
import { DeadBudget, type DeadCounts, Tally } from "./dead-budget.ts";
import { deadTask, withPeekChannel } from "./dead-list.ts";
import { type DeadSelector, deadIdentity, selects } from "./dead-select.ts";

export interface RequeueOptions {
  /** Move at most this many tasks. */
  limit?: number;
  /** Move only the tasks it selects (default: all). */
  selector?: DeadSelector;
  /** The instant ages (`olderThanMs`) are judged at, epoch ms (default: when it starts). */
  now?: number;
  /** `requeueDeadAcross`: told when the connection is lost (it goes on through the next one). */
  onLost?: (error: Error) => void;
}

export interface RequeueResult {
  deadQueue: string;
  exists: boolean;
  /** Moved: the broker confirmed the copy (`counts.done`); `counts.uncertain`: copies perhaps made. */
  moved: number;
  counts: DeadCounts;
  /** Moved, but the ack taking it out of the dead queue was cut off and the task not found again: perhaps there too. */
  ackUncertain: number;
}

/** What the passes of one requeue share: the copies (a DeadBudget) and the dead-queue acks lost. */
export class RequeueState {
  readonly budget: DeadBudget;
  /** Tasks whose copy was confirmed and whose ack died with a connection: to ack, not copy, when found. */
  readonly ackLost = new Tally();

  constructor(limit?: number) {
    this.budget = new DeadBudget(limit);
  }

  /** Nothing more to copy and nothing to look for. */
  get done(): boolean {
    return this.budget.full && this.budget.pending === 0 && this.ackLost.size === 0;
  }
}

/** Dead tasks published before one confirm wait; a failure duplicates at most this many. */
const REQUEUE_BATCH = 100;

/**
 * Moves dead tasks back to `queue`: each is published again (persistent,
 * confirmed, same body and properties, without the dead and attempt headers)
 * and acked in the dead queue only once the broker confirmed the copy. A crash
 * in between duplicates a task rather than losing it. Only the tasks present
 * when it starts are looked at, so a worker failing them again cannot make it
 * loop; tasks the selector skips stay where they were, in their order (left
 * unacked, they go back to their place when the channel closes). A copy counts
 * as moved once confirmed; one sent when the connection was lost is uncertain
 * and counts against the limit all the same. The invariant (see DeadBudget):
 *
 *   moved <= tasks with a copy in `queue` <= moved + counts.uncertain <= the limit
 *
 * @example
 * const { moved } = await requeueDead(broker, "task_queue", { selector: { exitCode: 3 } });
 */
export async function requeueDead(
  broker: Broker,
  queue: string,
  options: RequeueOptions = {},
  state = new RequeueState(options.limit),
): Promise<RequeueResult> {
  const deadQueue = deadQueueName(queue);
  const { budget, ackLost } = state;
  const result = (exists: boolean): RequeueResult => {
    const counts = budget.counts();
    return { deadQueue, exists, moved: counts.done, counts, ackUncertain: ackLost.size };
  };
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return result(false);
  // Passive when it exists: the work queue may be quorum, and a classic declare would be refused (406:
  // test/e2e/broker-rules.test.ts; dead requeue on quorum queues: test/e2e/quorum.test.ts).
  if ((await checkQueue(broker, queue)) === undefined) await declareQueues(broker, [queue]);
  const selector = options.selector ?? {};
  const at = options.now ?? Date.now();
  const publisher = await Publisher.open(broker, { window: REQUEUE_BATCH });
  const pass = budget.pass(); // in flight: copies published, not yet confirmed
  let acking: string[] = []; // acked in the dead queue (copies confirmed), no answer yet
  try {
    await withPeekChannel(broker, deadQueue, async (channel) => {
      const batch: Array<{ msg: GetMessage; id: string }> = [];
      const settle = async () => {
        await publisher.flush();
        pass.answered();
        for (const { msg } of batch) channel.ack(msg);
        acking.push(...batch.map((b) => b.id));
        batch.length = 0;
      };
      // Past the limit only to find the tasks a lost connection left behind (acks lost, copies uncertain).
      for (let seen = 0; seen < info.messageCount && !state.done; seen++) {
        const msg = await channel.get(deadQueue, { noAck: false });
        acking = []; // the broker handled every ack sent before this get
        if (msg === false) break;
        const task = deadTask(msg);
        if (!selects(selector, task, at)) continue;
        const id = deadIdentity(task);
        if (ackLost.take(id)) {
          channel.ack(msg); // its copy was confirmed before the connection that took it died
          acking.push(id);
          continue;
        }
        if (!budget.retry(id) && !budget.take(id)) continue;
        const copy = makeCopy(
          { queue, body: msg.content, properties: msg.properties, attempt: 1 },
          { kind: "requeue" },
        );
        pass.acted(id); // before: a publish cut half-way is uncertain too
        await publisher.publish(copy.queue, copy.body, copy.properties);
        batch.push({ msg, id });
        if (batch.length >= REQUEUE_BATCH) await settle();
      }
      await settle();
      await channel.get(deadQueue, { noAck: false }); // a round trip after the last acks (see purgeDead)
      acking = [];
    });
  } catch (err) {
    pass.lost();
    for (const id of acking) ackLost.add(id);
    throw err;
  } finally {
    await publisher.close();
  }
  return result(true);
}

/**
 * `requeueDead`, carried on across lost connections (see `acrossFailovers`). A task
 * whose copy was not confirmed is still in the dead queue (unacked, so given
 * back) and is moved on the next connection: the work queue may get it twice,
 * never none. A task whose copy was confirmed but whose ack died with the
 * connection is found again by its identity and only removed from the dead queue,
 * so none is left there twice over.
 */
export async function requeueDeadAcross(
  broker: Broker,
  reconnector: Reconnector,
  queue: string,
  options: RequeueOptions = {},
): Promise<RequeueResult> {
  const state = new RequeueState(options.limit);
  const walk = { ...options, now: options.now ?? Date.now() };
  return acrossFailovers(broker, reconnector, (current) => requeueDead(current, queue, walk, state), {
    done: () => state.done,
    onLost: options.onLost,
  });
}
