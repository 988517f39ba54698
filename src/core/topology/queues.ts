import type { Channel } from "amqplib";
import { isFieldUnencodable } from "../broker/amqplib.ts";
import { TaskqError } from "../../errors.ts";
import type { Broker } from "../broker/connection.ts";
import { quiet, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import { redact } from "../broker/url.ts";
import { type QueueType, queueArguments } from "./names.ts";

export interface QueueInfo {
  name: string;
  messageCount: number;
  consumerCount: number;
}

/**
 * Declares a work queue exactly as the RabbitMQ tutorial does: durable, no
 * arguments (unless quorum is asked for). Programs that declare `task_queue`
 * the tutorial's way can then share it with taskq without a 406 (any other
 * argument is one: test/e2e/queue-type.test.ts).
 */
export async function declareQueue(
  broker: Broker,
  channel: Channel,
  queue: string,
  type: QueueType = "classic",
  extra: Record<string, unknown> = {},
): Promise<QueueInfo> {
  try {
    return await assertDurable(channel, queue, type, extra);
  } catch (err) {
    throw queueError(broker, queue, err, type);
  }
}

/** The declare itself: durable, with `type`'s arguments; a refusal is thrown as amqplib throws it. */
async function assertDurable(
  channel: Channel,
  queue: string,
  type: QueueType,
  extra: Record<string, unknown> = {},
): Promise<QueueInfo> {
  const args = queueArguments(type, extra);
  const ok = await channel.assertQueue(queue, args ? { durable: true, arguments: args } : { durable: true });
  return { name: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount };
}

/**
 * Runs `fn` on a throwaway channel, quiet (its errors are `fn`'s to see, not the connection's
 * to report) and closed whatever `fn` did: a refusal (406, 404) closes only this channel
 * (test/e2e/broker-rules.test.ts).
 */
export async function withChannel<T>(broker: Broker, fn: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = quiet(await broker.model.createChannel());
  try {
    return await fn(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Declares on a throwaway channel, so a 406 cannot kill a channel in use. */
export function declareQueues(
  broker: Broker,
  queues: string[],
  type: QueueType = "classic",
  extra: Record<string, unknown> = {},
): Promise<QueueInfo[]> {
  return withChannel(broker, async (channel) => {
    const infos: QueueInfo[] = [];
    for (const queue of queues) infos.push(await declareQueue(broker, channel, queue, type, extra));
    return infos;
  });
}

/**
 * Passive declare on a throwaway channel (a passive declare of a missing queue
 * closes its channel): the queue's counts, or undefined when it does not exist.
 * Never creates anything.
 */
export function checkQueue(broker: Broker, queue: string): Promise<QueueInfo | undefined> {
  return withChannel(broker, async (channel) => {
    try {
      const ok = await channel.checkQueue(queue);
      return { name: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount };
    } catch (err) {
      if ((err as { code?: number })?.code === 404) return undefined;
      throw queueError(broker, queue, err);
    }
  });
}

/**
 * Whether `queue` exists (checkQueue), bounded by the connection and by ANSWER_TIMEOUT_MS (a silent broker fails the
 * connection).
 */
export async function queueStillThere(broker: Broker, queue: string): Promise<boolean> {
  return (
    (await whileUp(broker, checkQueue(broker, queue), { ms: ANSWER_TIMEOUT_MS, what: `checking queue '${queue}'` })) !==
    undefined
  );
}

export function deleteQueues(broker: Broker, queues: string[]): Promise<void> {
  return withChannel(broker, async (channel) => {
    for (const queue of queues) await channel.deleteQueue(queue);
  });
}

/** The queue exists with other arguments than taskq declares it with (a 406 on declare). */
export class QueueMismatch extends TaskqError {}

/** The work queue as declared: its counts, and the type it is used as. */
export interface WorkQueue extends QueueInfo {
  type: QueueType;
  /** It exists as the other type than asked (classic vs quorum) and is used as that type. */
  adopted: boolean;
}

/**
 * Declares the work queue as `type`, on throwaway channels. One that exists as the other type
 * (classic vs quorum: a 406) is used as that type, so `--queue-type` need not be repeated on every
 * command: the declare with the other type's arguments succeeds only then (nothing is created: the
 * queue exists). Any other difference fails (QueueMismatch) saying how many tasks the queue holds.
 * Shown: test/e2e/queue-type.test.ts.
 */
export async function declareWorkQueue(broker: Broker, queue: string, type: QueueType): Promise<WorkQueue> {
  const declare = (as: QueueType) => withChannel(broker, (channel) => assertDurable(channel, queue, as));
  try {
    return { ...(await declare(type)), type, adopted: false };
  } catch (err) {
    const refused = queueError(broker, queue, err, type);
    if (!(refused instanceof QueueMismatch)) throw refused;
    const other: QueueType = type === "quorum" ? "classic" : "quorum";
    const found = await declare(other).catch((e: unknown) => e);
    if (!(found instanceof Error)) return { ...(found as QueueInfo), type: other, adopted: true };
    // The type was one difference; the other type's refusal names the one behind it (an argument
    // such as x-message-ttl): said on the first try, as of a queue of that type.
    const deeper = typeOnly(err) && queueError(broker, queue, found, other) instanceof QueueMismatch;
    const held = (await checkQueue(broker, queue).catch(() => undefined))?.messageCount;
    throw deeper ? queueError(broker, queue, found, other, held) : queueError(broker, queue, err, type, held);
  }
}

/** A 406 whose difference is the queue's type (x-queue-type), which says nothing of its other arguments. */
const typeOnly = (err: unknown): boolean => /inequivalent arg 'x-queue-type'/.test(String((err as Error)?.message));

/**
 * Turns a broker refusal about a queue into a message that says what to do. A 406 never suggests
 * deleting the queue: it may hold tasks someone needs (`held`: how many, when known).
 */
export function queueError(
  broker: Broker,
  queue: string,
  err: unknown,
  type: QueueType = "classic",
  held?: number,
): TaskqError {
  const text = redact(String((err as Error)?.message ?? err), broker.address);
  const code = (err as { code?: number })?.code;
  if (code === 406 || /PRECONDITION_FAILED/.test(text)) {
    const detail = /PRECONDITION_FAILED - ([^"]*)/.exec(text)?.[1] ?? text;
    const declares =
      type === "quorum"
        ? "as a durable quorum queue (--queue-type quorum)"
        : "durable with no arguments, as the tutorial does";
    // `taskq remove` deletes only an empty family (it refuses while any queue holds tasks).
    const fix =
      held === undefined
        ? ": use another --queue"
        : held > 0
          ? `; it holds ${held} task(s): use another --queue`
          : `; it is empty: use another --queue, or 'taskq remove -q ${queue}' and run this again`;
    return new QueueMismatch(
      `queue '${queue}' already exists with other settings (${detail.trim()}); taskq declares it ${declares}${fix}`,
    );
  }
  if (code === 404 || /NOT_FOUND/.test(text)) return new TaskqError(`queue '${queue}' does not exist`);
  if (code === 403 || /ACCESS_REFUSED/.test(text)) {
    if (/reserved prefix/.test(text))
      return new TaskqError(
        `queue '${queue}': names starting with 'amq.' are reserved by the broker; use another --queue`,
      );
    return new TaskqError(`the broker refused access to queue '${queue}' for user '${broker.address.user}'`);
  }
  // Refused by amqplib before a byte was sent (a name past 255 bytes): the broker never saw it
  // (test/e2e/queue-error-words.test.ts).
  if (isFieldUnencodable(text))
    return new TaskqError(`queue '${queue}' was not declared: amqplib refused it (${text})`);
  return new TaskqError(`the broker refused queue '${queue}': ${text}`);
}
