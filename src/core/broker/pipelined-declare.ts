import { fallbackTaken } from "./amqplib.ts";

interface DeclareInternals {
  sendImmediately?: (method: number, fields: Record<string, unknown>) => unknown;
  reply?: ((err: unknown, frame?: unknown) => void) | null;
  pending?: unknown[] | null;
}

/** queue.declare (class 50, method 10): amqplib's `defs.QueueDeclare`. */
const QUEUE_DECLARE = (50 << 16) | 10;

/** Per channel: the answers its pipelined declares wait for, oldest first. */
const awaiting = new WeakMap<object, Array<(err: unknown) => void>>();

/**
 * Writes a queue.declare on `channel` at once, into the same per-channel stream as the publish the
 * caller writes next, even while earlier declares await their declare-ok (amqplib would hold it
 * back behind them: one call at a time per channel). The broker's channel process handles a
 * channel's frames in order, and a declare renews a queue's lease only when it is answered
 * (a `nowait` one is not: rabbit_channel skips the queue's stat, and so its expiry timer; shown
 * by test/e2e/hop-expiry.test.ts), so each declare is answered, and the answers, which come in the
 * order the declares went, are taken here, one per declare, before amqplib sees them as a reply.
 * Resolves on the declare-ok; rejects when the channel refused it (it is then closed) or closed.
 * The channel must carry no call of amqplib's own meanwhile (a publishing channel carries none).
 * Returns undefined, writing nothing, when amqplib's internals are not what 2.x has (or a call of
 * its own is pending): the caller then uses amqplib's `assertQueue`, one at a time.
 */
export function declarePipelined(channel: object, queue: string, args: Record<string, unknown>): Promise<void> | undefined {
  const c = channel as DeclareInternals;
  if (typeof c.sendImmediately !== "function" || !("reply" in c) || !Array.isArray(c.pending)) {
    fallbackTaken("a channel's sendImmediately, reply and pending", "a hop queue's declare waits for the one before it (a round trip per copy)");
    return undefined;
  }
  let queued = awaiting.get(channel);
  if (!queued) awaiting.set(channel, (queued = []));
  const ours = queued;
  if (c.pending.length > 0 || (c.reply !== null && ours.length === 0)) return undefined;
  const answer = new Promise<void>((resolve, reject) => ours.push((err) => (err ? reject(err instanceof Error ? err : new Error(`the declare of '${queue}' was refused`)) : resolve())));
  // amqplib calls it with (null, declare-ok), with the close frame when the broker closed the
  // channel, or with an Error when the channel ended: after an error no other answer comes.
  const take = (err: unknown) => {
    if (err) {
      for (let next = ours.shift(); next; next = ours.shift()) next(err);
      return;
    }
    ours.shift()?.(undefined);
    if (ours.length > 0) c.reply = take; // amqplib cleared it before calling: the next answer is ours too
  };
  c.reply = take;
  c.sendImmediately.call(channel, QUEUE_DECLARE, { queue, passive: false, durable: true, exclusive: false, autoDelete: false, nowait: false, ticket: 0, arguments: args });
  return answer;
}
