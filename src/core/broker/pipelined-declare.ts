import { fallbackTaken } from "./amqplib.ts";

interface DeclareInternals {
  sendImmediately?: (method: number, fields: Record<string, unknown>) => unknown;
  reply?: ((err: unknown, frame?: unknown) => void) | null;
  pending?: unknown[] | null;
}

/** queue.declare (class 50, method 10): amqplib's `defs.QueueDeclare`. */
const QUEUE_DECLARE = (50 << 16) | 10;

/** Per channel: the answers its pipelined declares wait for (oldest first), and the one reply slot taker. */
interface Pipeline {
  answers: Array<(err: unknown) => void>;
  take: (err: unknown) => void;
}

const pipelines = new WeakMap<object, Pipeline>();

function pipelineOf(channel: object, c: DeclareInternals): Pipeline {
  const known = pipelines.get(channel);
  if (known) return known;
  const answers: Pipeline["answers"] = [];
  // amqplib calls it with (null, declare-ok), with the close frame when the broker closed the
  // channel, or with an Error when the channel ended: after either no other answer comes.
  const take = (err: unknown) => {
    if (err) {
      for (let next = answers.shift(); next; next = answers.shift()) next(err);
      return;
    }
    answers.shift()?.(undefined);
    // amqplib cleared its slot before calling: the next answer is ours too, unless it gave the slot to a call of its
    // own.
    if (answers.length > 0 && c.reply === null) c.reply = take;
  };
  const pipeline = { answers, take };
  pipelines.set(channel, pipeline);
  return pipeline;
}

/**
 * Writes a queue.declare on `channel` at once, in the channel's stream of frames, even while
 * earlier declares await their declare-ok (amqplib would hold it back behind them: one call at a
 * time per channel). Each declare is answered (a `nowait` one does not renew a queue's lease:
 * rabbit_channel skips the queue's stat, and so its expiry timer), and the answers, which come in
 * the order the declares went, are taken here, one per declare, before amqplib sees them.
 * Resolves on the declare-ok; rejects when the broker refused it (the channel is then closed) or
 * the channel ended. Throws, writing nothing, on a closed or closing channel, and when a call of
 * amqplib's own is pending on it (a publishing channel makes none). Returns undefined, writing
 * nothing, when amqplib's internals are not what 2.x has: the caller then uses `assertQueue`.
 */
export function declarePipelined(
  channel: object,
  queue: string,
  args: Record<string, unknown>,
): Promise<void> | undefined {
  const c = channel as DeclareInternals;
  if (typeof c.sendImmediately !== "function" || !("reply" in c) || !("pending" in c)) {
    fallbackTaken(
      "a channel's sendImmediately, reply and pending",
      "a hop queue's declare waits for the one before it (a round trip per copy)",
    );
    return undefined;
  }
  // amqplib drops its queue of calls as the channel ends
  if (!Array.isArray(c.pending)) throw new Error("Channel closed");
  const pipeline = pipelineOf(channel, c);
  if (c.pending.length > 0 || (c.reply !== null && c.reply !== pipeline.take))
    throw new Error(`a call of amqplib's own is pending on the channel: the declare of '${queue}' cannot go in order`);
  // Written first: on a closing channel amqplib throws here, and no answer is left waiting.
  c.sendImmediately.call(channel, QUEUE_DECLARE, {
    queue,
    passive: false,
    durable: true,
    exclusive: false,
    autoDelete: false,
    nowait: false,
    ticket: 0,
    arguments: args,
  });
  c.reply = pipeline.take;
  const refused = (err: unknown) => (err instanceof Error ? err : new Error(`the declare of '${queue}' was refused`));
  return new Promise<void>((resolve, reject) =>
    pipeline.answers.push((err) => (err ? reject(refused(err)) : resolve())),
  );
}
