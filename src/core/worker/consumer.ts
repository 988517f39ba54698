import type { Channel, ConsumeMessage } from "amqplib";
import { randomBytes } from "node:crypto";
import { forgetConsumer, keepConsumer } from "../broker/amqplib.ts";

const newTag = () => `taskq-${randomBytes(8).toString("hex")}`;

/**
 * What the session does for a consumer about to be cancelled: `hush` holds the acks and requeues of
 * its deliveries and resolves once nothing can be on its way to it (see Consumer); `release` writes
 * what it held, after the cancel-ok.
 */
export interface Hush {
  hush(tag: string, prefetch: number): Promise<void>;
  release(tag: string): void;
}

/**
 * The session's consumer on its channel. Its prefetch is the consumer's own (basic.qos, not global:
 * RabbitMQ 4.3 denies a channel-wide one, test/e2e/deprecated-check.test.ts, and a quorum queue
 * refuses it, 540: RabbitMQ's "Quorum Queues" guide, feature matrix), which RabbitMQ fixes when
 * the consumer starts; `replace` changes it by starting another consumer with the new prefetch on
 * the same channel, then cancelling the old one (`--prefetch auto`, every queue type).
 *
 * Invariant: a cancel from here gives nothing back to the queue. The old consumer's unacked tasks
 * stay on the channel and are acked there (classic and quorum, 3.10 to 4.3). But a quorum queue
 * hands back a delivery still on its way to the consumer when the cancel reaches the channel
 * (RabbitMQ's rabbit_fifo_client returns what comes for a tag it no longer knows): it comes again
 * marked redelivered, and on 3.10 and 4.0 with x-delivery-count raised, which reads as a worker's
 * death and a spent attempt. So no consumer is cancelled while a delivery can be on its way: first
 * its acks and requeues are held (an ack frees a credit the broker fills at once), and the cancel
 * goes when it holds its whole prefetch (no credit left: nothing in flight), when no delivery
 * came to it for HUSH_QUIET_MS (the queue had none ready for it), or HUSH_MAX_MS after the hold
 * began (a bound on the held acks: ack-hush.ts); its held acks go after the cancel-ok. Shown by
 * test/e2e/prefetch-switch.test.ts (3.10 and 4.3).
 */
export class Consumer {
  private tag = newTag();
  private prefetch: number;
  /** Replacements in order, and a stop behind them. */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The consumer replaced last, still known to amqplib (see swap). */
  private kept: string | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly queue: string,
    prefetch: number,
    private readonly onMessage: (msg: ConsumeMessage) => void,
    /** The broker cancelled the consumer `tag` (basic.cancel): its queue went, or its consumer timeout passed (4.3). */
    private readonly onCancel: (tag: string) => void,
    private readonly hush: Hush,
    /** basic.consume's arguments (x-consumer-timeout), on every consumer it starts. */
    private readonly args: Record<string, unknown> | undefined = undefined,
  ) {
    this.prefetch = prefetch;
  }

  /**
   * Sets its prefetch and consumes. Our own tag, known before the first delivery: amqplib runs the
   * callback for deliveries that arrive with consume-ok before `await` returns (its
   * lib/channel_model.js registers the tag at consume-ok, before it resolves), and a stop then must be able to cancel.
   */
  async start(): Promise<void> {
    await this.channel.prefetch(this.prefetch);
    await this.consume(this.tag);
  }

  private consume(tag: string) {
    const onMessage = (msg: ConsumeMessage | null) => (msg ? this.onMessage(msg) : this.cancelled(tag));
    return this.channel.consume(this.queue, onMessage, {
      noAck: false,
      consumerTag: tag,
      ...(this.args ? { arguments: this.args } : {}),
    });
  }

  /**
   * A cancel from the broker: amqplib forgets the tag, but a 4.3 broker may still feed it (see
   * renew), and a delivery to a tag amqplib does not know ends the connection (amqplib.ts
   * keepConsumer): kept, as a task.
   */
  private cancelled(tag: string): void {
    keepConsumer(this.channel, tag, (msg) => msg && this.onMessage(msg));
    this.onCancel(tag);
  }

  /**
   * Another consumer in place of `tag`, one the broker cancelled for its consumer timeout (a 4.3
   * quorum queue): the broker keeps that one, unfed, until it is cancelled from here (or until the
   * tasks it took back are settled, when it feeds it again, measured on 4.3.6:
   * test/e2e/consumer-timeout.test.ts), so it is cancelled
   * first, a delivery to it still taken as a task; then a new one with the same prefetch. No hold
   * of its acks: nothing is on its way to a consumer the broker no longer feeds.
   *
   * Invariant: only the consumer the broker cancelled is cancelled here. One replaced meanwhile
   * (the broker cancelled the old consumer of a switch under way) is the switch's to cancel, and
   * the live one is left alone: cancelled without the hold, it would hand back what is on its way.
   */
  renew(tag: string): void {
    this.chain = this.chain.then(() => this.restart(tag)).catch(() => {});
  }

  private async restart(tag: string): Promise<void> {
    if (this.stopped || tag !== this.tag) return;
    await this.channel.cancel(tag);
    this.tag = newTag();
    await this.consume(this.tag);
  }

  /**
   * A consumer with `prefetch` in this one's place: basic.qos, basic.consume, then the old one
   * cancelled as the invariant says, so no moment passes without a consumer. Errors are the
   * channel's, told by its 'error' and 'close'.
   */
  replace(prefetch: number): void {
    this.chain = this.chain.then(() => this.swap(prefetch)).catch(() => {});
  }

  private async swap(prefetch: number): Promise<void> {
    if (this.stopped || prefetch === this.prefetch) return;
    const [old, held] = [this.tag, this.prefetch];
    const next = newTag();
    await this.channel.prefetch(prefetch);
    await this.consume(next);
    [this.tag, this.prefetch] = [next, prefetch];
    await this.quietCancel(old, held);
    // amqplib forgets a tag at cancel-ok; a delivery to it behind the cancel-ok is still a task.
    keepConsumer(this.channel, old, (msg) => msg && this.onMessage(msg));
    // The one replaced before it had its cancel-ok a whole swap ago: forgotten, or amqplib holds a tag per switch for
    // the channel's life.
    if (this.kept !== undefined) forgetConsumer(this.channel, this.kept);
    this.kept = old;
  }

  /** The cancel of `tag` once nothing can be on its way to it; its held acks after the cancel-ok. */
  private async quietCancel(tag: string, prefetch: number): Promise<void> {
    try {
      await this.hush.hush(tag, prefetch);
      await this.channel.cancel(tag);
    } finally {
      this.hush.release(tag);
    }
  }

  /** Stops deliveries: behind a replacement under way, then the consumer consuming now (as the invariant says). */
  async cancel(): Promise<void> {
    this.stopped = true;
    await this.chain;
    await this.quietCancel(this.tag, this.prefetch);
  }
}
