import type { Broker } from "../broker/connection.ts";
import { atLeast, rabbitVersion } from "../broker/rabbit-version.ts";
import type { QueueType } from "../topology/names.ts";
import type { Prefetch } from "./auto-prefetch.ts";

/**
 * RabbitMQ's consumer timeout (`consumer_timeout`, 30 min by default): a delivery held unacked
 * longer is taken back, and the task that is still running can no longer be acked. What each
 * version does and takes, measured on the pinned packages (docs/rabbitmq-versions.md;
 * test/e2e/consumer-timeout.test.ts):
 *
 * - 3.10: closes the channel (406 "delivery acknowledgement on channel N timed out. Timeout value
 *   used: T ms"); only the node's config sets it (an `x-consumer-timeout` argument is ignored).
 * - 3.12 to 4.2 (4.0.5 measured): the same close; a queue argument or a `consumer-timeout` policy
 *   sets it per queue, the consumer argument is ignored. taskq sets neither: a queue's arguments
 *   cannot change, and on 4.3 a quorum queue declared with one refuses every declare without it.
 * - 4.3: classic queues never time out (and refuse the argument, on a consumer too: a 406);
 *   a quorum queue cancels the consumer (basic.cancel, the channel stays) and returns the task; an
 *   ack of it after that is ignored. The `x-consumer-timeout` consumer argument sets it per consumer,
 *   above the node's value or below: `work --timeout` sets it (consumerArguments).
 */
export class ConsumerTimedOut extends Error {
  constructor(
    message: string,
    /** The timeout the broker used, when it said (3.10 to 4.2). */
    readonly timeoutMs: number | undefined,
    /** How to give the queue's tasks more time, on this broker (raiseHint). */
    readonly hint: string,
  ) {
    super(message);
  }
}

const TIMED_OUT = /delivery acknowledgement on channel \d+ timed out/;

/** The broker's channel close, as a ConsumerTimedOut when it is the consumer timeout's; else undefined. */
export function consumerTimeoutIn(message: string, hint: string): ConsumerTimedOut | undefined {
  if (!TIMED_OUT.test(message)) return undefined;
  const used = /Timeout value used: (\d+) ms/.exec(message);
  return new ConsumerTimedOut(message, used ? Number(used[1]) : undefined, hint);
}

/** What a dead task says when the broker took it back `takes` times (failures/redeliveries.ts says the rest). */
export const timeoutReason = (takes: number, why: ConsumerTimedOut): string =>
  `the broker took it back ${takes === 1 ? "once" : `${takes} times`} while it ran (unacked past its consumer_timeout${why.timeoutMs === undefined ? "" : ` of ${why.timeoutMs} ms`}): ${why.hint}`;

/**
 * Whether the broker takes a timeout per consumer for this queue: a quorum queue on RabbitMQ 4.3 or later
 * (test/e2e/consumer-timeout.test.ts).
 */
export const perConsumer = (broker: Broker, type: QueueType): boolean =>
  type === "quorum" && atLeast(rabbitVersion(broker), 4, 3);

/** Time for a task's outcome to be settled once its run ended (a copy confirmed, then the ack). */
export const SETTLE_MARGIN_MS = 60_000;
/** taskq's own bound on x-consumer-timeout, 2^31 - 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The `x-consumer-timeout` a consumer asks for when its tasks end within `taskBoundMs` (work
 * --timeout plus --kill-after; the library's timeoutMs): a delivery may wait behind the others held
 * (`held`: the most the consumer holds, `concurrency` run at once) before it runs, so as many rounds
 * of tasks, and SETTLE_MARGIN_MS. Undefined where the broker takes none (see ConsumerTimedOut).
 */
export function consumerArguments(
  broker: Broker,
  type: QueueType,
  taskBoundMs: number | undefined,
  held: number,
  concurrency: number,
): Record<string, number> | undefined {
  if (taskBoundMs === undefined || !perConsumer(broker, type)) return undefined;
  const rounds = Math.ceil(Math.max(held, concurrency) / concurrency);
  return { "x-consumer-timeout": Math.min(MAX_TIMEOUT_MS, rounds * taskBoundMs + SETTLE_MARGIN_MS) };
}

/** The most deliveries a consumer holds at `prefetch` (auto: concurrency plus the largest reserve, `reserveLimit`). */
export const mostHeld = (prefetch: Prefetch, concurrency: number, reserveLimit: number): number =>
  prefetch === "auto" ? concurrency + reserveLimit : prefetch;

/** How to give tasks on `queue` more time than the broker's consumer timeout, on this broker. */
export function raiseHint(broker: Broker, type: QueueType, queue: string): string {
  const version = rabbitVersion(broker);
  const conf = "raise consumer_timeout in rabbitmq.conf above the longest task";
  if (perConsumer(broker, type))
    return `${conf}, or run work with --timeout (taskq then sets x-consumer-timeout on its consumer)`;
  if (atLeast(version, 3, 12))
    return `${conf}, or set it for this queue with a policy: rabbitmqctl set_policy NAME '^${queue.replaceAll(".", "\\.")}$' '{"consumer-timeout": MS}' --apply-to queues`;
  return conf;
}

/**
 * The broker cancelled a consumer of `queue` (basic.cancel): on a 4.3 quorum queue, its consumer
 * timeout (a ConsumerTimedOut), unless the queue was deleted (the caller checks; a deletion cancels
 * too: test/e2e/work.test.ts); else undefined.
 */
export function cancelledForTimeout(broker: Broker, queue: string, type: QueueType): ConsumerTimedOut | undefined {
  if (!perConsumer(broker, type)) return undefined;
  return new ConsumerTimedOut(
    `the broker cancelled the consumer of '${queue}': a task was held past its consumer timeout`,
    undefined,
    raiseHint(broker, type, queue),
  );
}
