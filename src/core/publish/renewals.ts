import type { ConfirmChannel } from "amqplib";
import { now } from "../../util/clock.ts";
import { declarePipelined } from "../broker/pipelined-declare.ts";
import type { Renewal } from "../topology/hop-queues.ts";

/** A copy into a hop queue, from its publish to its confirm. */
interface Placed {
  queue: string;
  /**
   * When the last declare of its queue written before it on the channel was sent: clock ms, and wall ms (a suspended
   * machine's monotonic clock stands still).
   */
  sentAt: number;
  wallAt: number;
  renew: Renewal;
}

/**
 * The declares a publisher writes before its copies into hop queues, and the proof each copy was
 * placed in time (the invariant: names.ts, HOP_EXPIRY_MARGIN_MS). A declare goes on the
 * publisher's own channel, in the same synchronous step as the copy behind it, whenever the last
 * one of that queue on this channel is `renew.everyMs` old; a copy whose confirm comes more than
 * `renew.safeMs` after that declare was sent is `late`, and goes again, as one returned (every
 * copy into a hop queue is flagged: its queue was gone, deleted by hand or expired). Pipelined
 * (pipelined-declare.ts); under amqplib's fallback its `assertQueue` writes at once only when no
 * call is pending on the channel, so a copy that needs a declare waits for `busy`.
 */
export class Renewals {
  /** The fallback's declare awaiting its answer. */
  busy: Promise<unknown> | undefined;
  private readonly lastSent = new Map<string, { at: number; wall: number }>();
  private readonly placed = new Map<number, Placed>();

  constructor(private readonly channel: ConfirmChannel) {}

  /** Whether copy into `queue` must wait for `busy` before it can go (a declare due, the fallback's pending). */
  mustWait(queue: string, renew: Renewal): boolean {
    return this.busy !== undefined && this.due(queue, renew);
  }

  /** Before copy `seq` into `queue` is written (same step): its declare first, when due. Throws on a closed channel. */
  before(seq: number, queue: string, renew: Renewal): void {
    let sent = this.lastSent.get(queue);
    if (sent === undefined || this.due(queue, renew)) {
      sent = { at: now(), wall: Date.now() };
      this.write(queue, renew);
      this.lastSent.set(queue, sent);
    }
    this.placed.set(seq, { queue, sentAt: sent.at, wallAt: sent.wall, renew });
  }

  /**
   * At copy `seq`'s answer: its renewal when it must go again, confirmed (`confirmed`) but
   * `returned` (asked only of a hop copy) or later than its queue's lease is sure to outlast it;
   * else undefined (not a hop copy, in time, or not confirmed).
   */
  late(seq: number, confirmed: boolean, returned: () => boolean = () => false): Renewal | undefined {
    const placed = this.placed.get(seq);
    if (!placed) return undefined;
    this.placed.delete(seq);
    if (!confirmed) return undefined;
    if (returned()) {
      this.lastSent.delete(placed.queue); // gone: declared afresh before it goes again
      return placed.renew;
    }
    const held = Math.max(now() - placed.sentAt, Date.now() - placed.wallAt);
    return held > placed.renew.safeMs ? placed.renew : undefined;
  }

  private due(queue: string, renew: Renewal): boolean {
    const sent = this.lastSent.get(queue);
    return sent === undefined || now() - sent.at >= renew.everyMs;
  }

  private write(queue: string, renew: Renewal): void {
    const answer = declarePipelined(this.channel, queue, renew.arguments);
    // a refusal closes the channel: the copy fails with it
    if (answer !== undefined) return void answer.catch(() => {});
    const done = () => (this.busy = undefined);
    this.busy = this.channel.assertQueue(queue, { durable: true, arguments: renew.arguments }).then(done, done);
  }
}
