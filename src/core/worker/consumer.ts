import type { Channel, ConsumeMessage } from "amqplib";
import { randomBytes } from "node:crypto";
import { forgetConsumer, keepConsumer } from "../broker/amqplib.ts";

const newTag = () => `taskq-${randomBytes(8).toString("hex")}`;

/**
 * The session's consumer on its channel. Its prefetch is the consumer's own (basic.qos, not
 * global), which RabbitMQ fixes when the consumer starts; to change it (`--prefetch auto` on a
 * quorum queue, which refuses a channel-wide limit) `replace` starts another consumer with the new
 * prefetch on the same channel, then cancels the old one. A cancel does not requeue: the old
 * consumer's unacked tasks stay on the channel and are acked there as usual (checked on 3.10.8,
 * single node and cluster), and any delivery to it still under way runs as any other.
 */
export class Consumer {
  private tag = newTag();
  /** Replacements in order, and a stop behind them. */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The consumer replaced last, still known to amqplib (see swap). */
  private kept: string | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly queue: string,
    private readonly onMessage: (msg: ConsumeMessage) => void,
    /** The broker cancelled the consumer `tag` (basic.cancel): its queue went, or its consumer timeout passed (4.3). */
    private readonly onCancel: (tag: string) => void,
    /** basic.consume's arguments (x-consumer-timeout), on every consumer it starts. */
    private readonly args: Record<string, unknown> | undefined = undefined,
  ) {}

  /**
   * Consumes (the prefetch set before by the session). Our own tag, known before the first delivery:
   * amqplib runs the callback for deliveries that arrive with consume-ok before `await` returns,
   * and a stop then must be able to cancel.
   */
  async start(): Promise<void> {
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
   * renew), and a delivery to a tag amqplib does not know closes the channel: kept, as a task.
   */
  private cancelled(tag: string): void {
    keepConsumer(this.channel, tag, (msg) => msg && this.onMessage(msg));
    this.onCancel(tag);
  }

  /**
   * Another consumer in place of one the broker cancelled for its consumer timeout (a 4.3 quorum
   * queue): the broker keeps that one, unfed, until it is cancelled from here (or until the tasks it
   * took back are settled, when it feeds it again, measured on 4.3.6), so it is cancelled first,
   * a delivery to it still taken as a task; then a new one with the channel's prefetch.
   */
  renew(): void {
    this.chain = this.chain.then(() => this.restart()).catch(() => {});
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    const old = this.tag;
    await this.channel.cancel(old);
    this.tag = newTag();
    await this.consume(this.tag);
  }

  /**
   * A consumer with `prefetch` in this one's place: basic.qos, basic.consume, then basic.cancel of
   * the old one (three round trips, 1.6 ms median on one node, 4 ms on the local cluster), so no
   * moment passes without a consumer. Errors are the channel's, told by its 'error' and 'close'.
   */
  replace(prefetch: number): void {
    this.chain = this.chain.then(() => this.swap(prefetch)).catch(() => {});
  }

  private async swap(prefetch: number): Promise<void> {
    if (this.stopped) return;
    const old = this.tag;
    const next = newTag();
    await this.channel.prefetch(prefetch);
    await this.consume(next);
    this.tag = next;
    await this.channel.cancel(old);
    // amqplib forgets a tag at cancel-ok; a delivery to it behind the cancel-ok is still a task.
    keepConsumer(this.channel, old, (msg) => msg && this.onMessage(msg));
    // The one replaced before it had its cancel-ok a whole swap ago: forgotten, or amqplib holds a tag per switch for the channel's life.
    if (this.kept !== undefined) forgetConsumer(this.channel, this.kept);
    this.kept = old;
  }

  /** Stops deliveries: behind a replacement under way, then the consumer consuming now. */
  async cancel(): Promise<void> {
    this.stopped = true;
    await this.chain;
    await this.channel.cancel(this.tag);
  }
}
