import type { Broker } from "../broker/connection.ts";
import { type RetryDelays, retryLevels } from "../failures/retry-policy.ts";
import { deadQueueName, retryQueueName } from "../topology/names.ts";
import { checkQueue } from "../topology/queues.ts";
import { type ManagementClient, type ManagementQueue, ManagementUnavailable } from "./management.ts";

/** AMQP queue names are short strings: at most 255 bytes. */
const MAX_QUEUE_NAME_BYTES = 255;

/** Messages per second over the API's last sample window (`message_stats.*_details.rate`). */
export interface QueueRates {
  publish: number;
  /** Delivered to consumers or fetched with basic.get. */
  deliver: number;
  ack: number;
}

/** One queue of a work queue's family: `<q>`, `<q>.retry.<ms>`, `<q>.delay.<ms>`, `<q>.dead`. */
export interface FamilyQueue {
  name: string;
  role: "work" | "retry" | "delay" | "dead";
  /** retry and delay: the level's delay, from the name. */
  levelMs?: number;
  ready: number;
  /** Delivered, not yet acked: only the management API knows. */
  unacked?: number;
  /**
   * Held, neither ready nor unacked: a quorum hop queue's dead letters that found no queue yet (its work queue deleted;
   * at-least-once dead-lettering keeps them and tries again). Only the management API knows (`messages`).
   */
  held?: number;
  consumers: number;
  /**
   * Only the management API knows; absent before the broker's first statistics on the queue
   * (test/unit/core/admin/family.test.ts, a recorded answer).
   */
  rates?: QueueRates;
}

export interface Family {
  queue: string;
  /** The members that exist: the work queue first, then retry and delay levels (shortest first), then dead. */
  queues: FamilyQueue[];
  /** false: found by guessing names over AMQP (no management API), so levels from other settings may be missed. */
  complete: boolean;
  /** Without the management API: why not (one line naming its URL, never a password). */
  missing?: string;
  /** With it: the API's base URL (printable). */
  source?: string;
}

/** Which member of `queue`'s family `name` is, or undefined for any other queue (`<q>x`, `<q>.retry.1s`). */
export function familyRole(queue: string, name: string): Pick<FamilyQueue, "role" | "levelMs"> | undefined {
  if (name === queue) return { role: "work" };
  if (!name.startsWith(`${queue}.`)) return undefined;
  const rest = name.slice(queue.length + 1);
  if (rest === "dead") return { role: "dead" };
  const level = /^(retry|delay)\.(0|[1-9]\d{0,15})$/.exec(rest);
  if (level === null) return undefined;
  const levelMs = Number(level[2]);
  return Number.isSafeInteger(levelMs) ? { role: level[1] as "retry" | "delay", levelMs } : undefined;
}

/** The API's filter for a family (Erlang `re`): the queue's name taken literally, anchored. */
export function familyRegex(queue: string): string {
  const literal = queue.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
  return `^${literal}(\\.(retry|delay)\\.[0-9]+|\\.dead)?$`;
}

const ROLE_ORDER: Record<FamilyQueue["role"], number> = { work: 0, retry: 1, delay: 2, dead: 3 };

/** The API's queues that belong to `queue`'s family, in display order (parsed from real `GET /api/queues` answers). */
export function familyFromApi(queue: string, listed: readonly ManagementQueue[]): FamilyQueue[] {
  const members: FamilyQueue[] = [];
  for (const item of listed) {
    const role = familyRole(queue, item.name);
    if (role === undefined) continue;
    const member: FamilyQueue = {
      name: item.name,
      ...role,
      ready: count(item.messages_ready),
      consumers: count(item.consumers),
    };
    // A queue listed before the broker's first statistics on it has no counts: no unacked figure rather than a made-up
    // 0.
    if (typeof item.messages_unacknowledged === "number") member.unacked = item.messages_unacknowledged;
    // Only from all three counts: a missing one would pass ready or unacked tasks off as held.
    if (
      typeof item.messages === "number" &&
      typeof item.messages_ready === "number" &&
      typeof item.messages_unacknowledged === "number"
    ) {
      const held = item.messages - item.messages_ready - item.messages_unacknowledged;
      if (held > 0) member.held = held;
    }
    const stats = item.message_stats;
    if (stats !== undefined)
      member.rates = {
        publish: rate(stats.publish_details),
        deliver: rate(stats.deliver_get_details),
        ack: rate(stats.ack_details),
      };
    members.push(member);
  }
  return members.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.levelMs ?? 0) - (b.levelMs ?? 0));
}

const count = (n: unknown): number => (typeof n === "number" && Number.isFinite(n) ? n : 0);
const rate = (details: { rate?: number } | undefined): number => count(details?.rate);

/**
 * Every queue of `queue`'s family that exists. With the management API: listed (every retry and
 * delay level there is), and each found queue passive-declared for its live ready and consumer
 * counts (the API's lag by up to its statistics interval, 5 s by default:
 * `collect_statistics_interval`, RabbitMQ's Management Plugin guide); unacked counts and rates come
 * from the API. Without it (or when it does not answer): passive declares of the names the retry
 * policy gives, `complete: false`, and `missing` says why the API was not used. Never creates a
 * queue.
 *
 * @example
 * const family = await findFamily(broker, "task_queue", { retry: DEFAULT_RETRY });
 */
export async function findFamily(
  broker: Broker,
  queue: string,
  options: { management?: ManagementClient; retry: RetryDelays },
): Promise<Family> {
  let missing: string | undefined;
  if (options.management !== undefined) {
    try {
      const listed = familyFromApi(queue, await options.management.queues(familyRegex(queue)));
      return {
        queue,
        // The API's members with AMQP's exact ready and consumer counts; one deleted since it was listed is left out.
        queues: await existing(broker, listed),
        complete: true,
        source: options.management.display,
      };
    } catch (err) {
      if (!(err instanceof ManagementUnavailable)) throw err;
      missing = err.message;
    }
  }
  const family: Family = { queue, queues: await guessed(broker, queue, options.retry), complete: false };
  if (missing !== undefined) family.missing = missing;
  return family;
}

/** Passive declares of the work queue, the policy's retry levels and the dead queue: the members that exist. */
function guessed(broker: Broker, queue: string, retry: RetryDelays): Promise<FamilyQueue[]> {
  const names: Array<Pick<FamilyQueue, "name" | "role" | "levelMs">> = [
    { name: queue, role: "work" },
    ...retryLevels(retry).map((levelMs) => ({ name: retryQueueName(queue, levelMs), role: "retry" as const, levelMs })),
    { name: deadQueueName(queue), role: "dead" },
  ];
  return existing(
    broker,
    names.filter((member) => Buffer.byteLength(member.name) <= MAX_QUEUE_NAME_BYTES),
  );
}

/**
 * The members that exist, with their live ready and consumer counts (passive declares, all at once: each has its own
 * channel).
 */
async function existing<M extends Pick<FamilyQueue, "name">>(
  broker: Broker,
  members: M[],
): Promise<Array<M & Pick<FamilyQueue, "ready" | "consumers">>> {
  const infos = await Promise.all(members.map((member) => checkQueue(broker, member.name)));
  return members.flatMap((member, i) => {
    const info = infos[i];
    return info === undefined ? [] : [{ ...member, ready: info.messageCount, consumers: info.consumerCount }];
  });
}
