import type { ConfirmChannel } from "amqplib";
import { declarePipelined } from "../broker/pipelined-declare.ts";
import type { Renewal } from "../topology/hop-queues.ts";

/**
 * The declares a publisher writes just before its copies into hop queues, on its own channel and
 * in the same synchronous step as each copy (the invariant: names.ts, HOP_EXPIRY_MARGIN_MS).
 * Pipelined (pipelined-declare.ts); under amqplib's fallback, its `assertQueue` writes at once only
 * when no call is pending on the channel, so the next copy into a hop queue waits for `busy`.
 */
export class Renewals {
  /** The fallback's declare awaiting its answer: a copy with a renewal waits for it. */
  busy: Promise<unknown> | undefined;

  constructor(private readonly channel: ConfirmChannel) {}

  /** Writes `renew`'s declare of `queue` now; a refusal closes the channel, and the copy fails with it. */
  write(queue: string, renew: Renewal): void {
    const answer = declarePipelined(this.channel, queue, renew.arguments);
    if (answer) return void answer.catch(() => {});
    const done = () => (this.busy = undefined);
    this.busy = this.channel.assertQueue(queue, { durable: true, arguments: renew.arguments }).then(done, done);
  }
}
