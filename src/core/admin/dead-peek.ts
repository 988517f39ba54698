import type { Channel, GetMessage, MessageProperties } from "amqplib";
import { type Broker, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import { takesPublishes } from "./publish-probe.ts";
import { ACQUIRED_COUNT_HEADER, DELIVERY_COUNT_HEADER } from "../headers.ts";
import { Publisher, type TaskProperties } from "../publish/publisher.ts";
import { checkQueue, queueError, withChannel } from "../topology/queues.ts";
import { sleep } from "../../util/clock.ts";
import { type DeadTask, deadTask } from "./dead-task.ts";
import { type PeekMode, peekModeFor } from "./peek-mode.ts";

/*
 * Invariant: looking at a dead queue never spends a delivery. A look hands a task back only in a
 * way the broker does not count toward a delivery limit (PeekMode: a nack on 4.3 and later, a
 * channel's close on a classic queue); elsewhere (a quorum queue before 4.3, where 4.0 drops a
 * task returned 20 times and the dead queue has nowhere to dead-letter it) it moves every task
 * once round: a copy at the tail, confirmed, then the original acked. So every task stays, once,
 * with its headers, in its order (tasks that arrive while a look moves the queue round, or another
 * look's moves, fall among them), and no count grows: the one hand-back of a `move`, its last get,
 * is of a copy it made (count 0 to 1), which the next look moves again. Shown on 3.10, 4.0 and
 * 4.3 by 100 looks in a row and two at once: test/e2e/dead-peek.test.ts.
 *
 * What it rests on, each seen on those brokers (docs/rabbitmq-versions.md):
 * - A settlement (ack, nack) sent just before the channel closes can reach a quorum queue after
 *   the close has given back what the channel held: 167 of 200 acks lost so (the tasks came back,
 *   doubled), and nacks counted as closes (267 of 300 tasks gone after 21 looks on 4.3). So
 *   every settlement is followed by something that shows the queue has applied it before the
 *   close: a get on the same channel (it queues behind the settlements), or the ready count.
 * - A lost connection mid-way gives back what the look held (counted once, and a moved task's
 *   copy may already be there: twice, never none).
 */

/** What a look keeps, and how far it goes. */
export interface PeekOptions {
  /** Keep at most this many tasks, in queue order. */
  limit: number;
  /** Keep only the tasks it selects (default: all). */
  select?: (task: DeadTask) => boolean;
  /** When the look must move tasks (`move`), read nothing if more than this many would go round. */
  moveAtMost?: number;
}

export interface Peek {
  tasks: DeadTask[];
  /** Unset when there was nothing to look at. */
  mode?: PeekMode;
  /** Why nothing was read (a `move` past `moveAtMost`); unset when the look was made. */
  unread?: string;
}

/** Tasks moved per confirm wait: a failure gives back at most this many (counted once). */
const MOVE_BATCH = 100;

const BLOCKED =
  "the broker is not taking publishes (a memory or disk alarm?), and a look at this quorum queue before RabbitMQ 4.3 moves every task once round: try again once it clears";
/** How long a look waits for its nack to show in the ready count before it closes all the same. */
const NACK_SHOWN_MS = 2000;

/**
 * Looks at the first tasks of `queue` (`ready` of them when the caller checked it), spending no
 * delivery (see the invariant above). `move` reads the whole queue once round, to keep its order.
 *
 * @example
 * const { tasks } = await peekDead(broker, "task_queue.dead", info.messageCount, { limit: 20 });
 */
export async function peekDead(broker: Broker, queue: string, ready: number, options: PeekOptions): Promise<Peek> {
  if (ready === 0 || options.limit <= 0) return { tasks: [] };
  const mode = await peekModeFor(broker, queue);
  if (mode !== "move") return { tasks: await peekInPlace(broker, queue, mode, options), mode };
  if (ready > (options.moveAtMost ?? Number.POSITIVE_INFINITY)) {
    return {
      tasks: [],
      mode,
      unread: `a look at this quorum queue before RabbitMQ 4.3 moves every task once round (a hand-back would count toward its delivery limit); ${ready} are more than ${options.moveAtMost}`,
    };
  }
  if (!(await takesPublishes(broker))) return { tasks: [], mode, unread: BLOCKED };
  return { tasks: await peekByMoving(broker, queue, ready, options), mode };
}

/** `nack` and `close`: the tasks are fetched and given back where they were. */
async function peekInPlace(
  broker: Broker,
  queue: string,
  mode: "nack" | "close",
  options: PeekOptions,
): Promise<DeadTask[]> {
  const tasks: DeadTask[] = [];
  await withPeekChannel(broker, queue, async (channel) => {
    let held = 0;
    let after = 0; // ready behind the last task fetched
    while (tasks.length < options.limit) {
      const msg = await channel.get(queue, { noAck: false });
      if (msg === false) break;
      held++;
      after = msg.fields.messageCount;
      const task = deadTask(msg);
      if (options.select?.(task) ?? true) tasks.push(task);
    }
    if (mode === "nack" && held > 0) {
      channel.nackAll(true);
      await readyAtLeast(broker, queue, after + held);
    }
  });
  return tasks;
}

/**
 * Waits until the tasks given back are back: the ready count shows them. A get cannot tell (it
 * would fetch one, to give back again), and a nack's close must not come first (it would count
 * them). Bounded: another consumer may take them meanwhile.
 */
async function readyAtLeast(broker: Broker, queue: string, count: number): Promise<void> {
  const until = Date.now() + NACK_SHOWN_MS;
  for (let pause = 2; Date.now() < until; pause = Math.min(pause * 2, 50)) {
    if (((await checkQueue(broker, queue))?.messageCount ?? count) >= count) return;
    await sleep(pause);
  }
}

/** `move`: every task present at the start goes round once, so the queue ends in its order. */
async function peekByMoving(broker: Broker, queue: string, ready: number, options: PeekOptions): Promise<DeadTask[]> {
  const tasks: DeadTask[] = [];
  let backAt: number | undefined; // the ready count once the last get's task is given back
  const publisher = await Publisher.open(broker, { window: MOVE_BATCH });
  try {
    await withPeekChannel(broker, queue, async (channel) => {
      let batch: GetMessage[] = [];
      let acked = false;
      const settle = async () => {
        const last = batch.at(-1);
        if (last === undefined) return;
        // Every copy so far is in the queue: only then go the originals. Bounded: an alarm that
        // began after the probe fails the look (the originals go back, counted once; a copy the
        // broker held may land too: twice, never none).
        await whileUp(broker, publisher.flush(), { ms: ANSWER_TIMEOUT_MS, what: "confirming the tasks a look moved" });
        channel.ack(last, true);
        acked = true;
        batch = [];
      };
      for (let seen = 0; seen < ready; seen++) {
        const msg = await channel.get(queue, { noAck: false }); // after the acks before it, in the queue too
        if (msg === false) break;
        const task = deadTask(msg);
        if (tasks.length < options.limit && (options.select?.(task) ?? true)) tasks.push(task);
        await publisher.publish(queue, msg.content, sameTask(msg.properties, broker));
        batch.push(msg);
        if (batch.length >= MOVE_BATCH) await settle();
      }
      await settle();
      // The last acks must be applied before the close: a get queues behind them. It fetches the
      // head, a copy this look made, which the close gives back (to the head, being alone): one
      // count on a fresh copy, which the next look moves (a count of 0 again).
      const last = acked ? await channel.get(queue, { noAck: false }) : false;
      if (last !== false) backAt = last.fields.messageCount + 1;
    });
  } finally {
    await publisher.close();
  }
  // Back before the next look counts the queue: else it would go round without that task.
  if (backAt !== undefined) await readyAtLeast(broker, queue, backAt);
  return tasks;
}

/**
 * Headers the broker sets on each delivery of a quorum queue's task: about that delivery, not the task
 * (test/e2e/dead-peek.test.ts).
 */
const DELIVERY_HEADERS = new Set([DELIVERY_COUNT_HEADER, ACQUIRED_COUNT_HEADER]);

/**
 * The task as it was published: body, properties and headers, less the delivery's own headers and
 * the delivery mode (the publisher's: persistent). A user id other than this login's is left out:
 * the broker refuses a publish that claims another user (406: test/e2e/broker-rules.test.ts).
 */
export function sameTask(properties: MessageProperties, broker: Pick<Broker, "address">): TaskProperties {
  const { headers, deliveryMode: _mode, userId, ...kept } = properties;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kept)) if (value !== undefined && value !== null) out[key] = value;
  if (userId !== undefined && userId !== null && userId === broker.address.user) out.userId = userId;
  const left = Object.entries((headers ?? {}) as Record<string, unknown>).filter(([key]) => !DELIVERY_HEADERS.has(key));
  if (left.length > 0) out.headers = Object.fromEntries(left);
  return out as TaskProperties;
}

/**
 * Runs `fn` on a channel whose unacked deliveries all go back to the queue when it closes (AMQP
 * requeues them in their original order: test/e2e/broker-rules.test.ts), whatever `fn` did. On a
 * quorum queue that close counts toward the delivery limit: to look without acting, use `peekDead`.
 */
export function withPeekChannel(broker: Broker, queue: string, fn: (channel: Channel) => Promise<void>): Promise<void> {
  return withChannel(broker, async (channel) => {
    try {
      await fn(channel);
    } catch (err) {
      throw (err as { code?: number })?.code !== undefined ? queueError(broker, queue, err) : err;
    }
  });
}
