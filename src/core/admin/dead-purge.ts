import type { Broker } from "../broker/connection.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { deadQueueName } from "../topology/names.ts";
import { checkQueue } from "../topology/queues.ts";
import { acrossFailovers } from "./dead-across.ts";
import { type DeadTask, deadTask, withPeekChannel } from "./dead-list.ts";
import { type DeadSelector, deadKey, selects } from "./dead-select.ts";

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

export interface PurgeDeadResult {
  deadQueue: string;
  exists: boolean;
  purged: number;
}

/**
 * Deletes the selected dead tasks of `<queue>.dead`, and only them: each is fetched unacked and
 * acked (the ack is the delete); the others stay unacked and go back to their place when the
 * channel closes. Only the tasks present when it starts are looked at. `purged` holds the keys
 * (`deadKey`) of tasks deleted by an earlier pass, so a repeat does not count them twice.
 */
export async function purgeDead(broker: Broker, queue: string, options: DeadWalkOptions = {}, purged = new Set<string>()): Promise<PurgeDeadResult> {
  const deadQueue = deadQueueName(queue);
  const info = await checkQueue(broker, deadQueue);
  if (info === undefined) return { deadQueue, exists: false, purged: 0 };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const at = options.now ?? Date.now();
  let count = 0;
  await withPeekChannel(broker, deadQueue, async (channel) => {
    for (let seen = 0; seen < info.messageCount && count < limit; seen++) {
      const msg = await channel.get(deadQueue, { noAck: false });
      if (msg === false) break;
      const task = deadTask(msg);
      if (!selects(options.selector ?? {}, task, at)) continue;
      const key = deadKey(task);
      channel.ack(msg);
      if (key === undefined || !purged.has(key)) count++;
      if (key !== undefined) purged.add(key);
    }
    // A round trip after the acks: once it answers, every ack before it is done.
    await channel.checkQueue(deadQueue);
  });
  return { deadQueue, exists: true, purged: count };
}

/**
 * `purgeDead` across lost connections (see `acrossFailovers`): an ack lost with the connection
 * leaves its task in the dead queue, where the next pass finds and deletes it. Nothing else is
 * touched, so nothing unselected can be lost.
 */
export async function purgeDeadAcross(broker: Broker, reconnector: Reconnector, queue: string, options: DeadWalkOptions = {}): Promise<PurgeDeadResult> {
  const keys = new Set<string>();
  let purged = 0;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const now = options.now ?? Date.now();
  const pass = async (current: Broker) => {
    const left = options.limit === undefined ? {} : { limit: options.limit - purged };
    const result = await purgeDead(current, queue, { ...options, ...left, now }, keys);
    purged += result.purged;
    return { ...result, purged };
  };
  return acrossFailovers(broker, reconnector, pass, { done: () => purged >= limit, onLost: options.onLost });
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
  const tasks: DeadTask[] = [];
  await withPeekChannel(broker, deadQueue, async (channel) => {
    for (let seen = 0; seen < info.messageCount && tasks.length < limit; seen++) {
      const msg = await channel.get(deadQueue, { noAck: false });
      if (msg === false) break;
      const task = deadTask(msg);
      if (selects(options.selector ?? {}, task, at)) tasks.push(task);
    }
  });
  return { deadQueue, exists: true, tasks };
}
