import type { Channel, ConsumeMessage } from "amqplib";
import { type AckWriter, ackWriter } from "../broker/amqplib.ts";

/**
 * Acks for one consuming channel. Tasks done in the same event-loop turn are
 * acked together: one `multiple` ack for the longest run of done deliveries,
 * single acks for the rest. Only deliveries whose work finished are ever acked.
 */
export class Acker {
  /** Delivered and not yet settled, in delivery order. */
  private outstanding: ConsumeMessage[] = [];
  private done = new Set<number>();
  private scheduled = false;
  private readonly writer: AckWriter;

  constructor(
    channel: Channel,
    private readonly isOpen: () => boolean,
  ) {
    this.writer = ackWriter(channel);
  }

  /** Delivered and not yet settled, in delivery order. */
  get unsettled(): readonly ConsumeMessage[] {
    return this.outstanding;
  }

  track(msg: ConsumeMessage): void {
    this.outstanding.push(msg);
  }

  /** Marks `msg` done; acks now, or at the end of this turn when `batch` is set. */
  ack(msg: ConsumeMessage, batch: boolean): void {
    // The oldest delivery, nothing else waiting (every task at prefetch 1): its ack, nothing to track.
    if (!batch && this.done.size === 0 && this.outstanding[0] === msg && this.isOpen()) {
      this.outstanding.shift();
      this.writer.ack(msg.fields.deliveryTag, false);
      return;
    }
    this.done.add(msg.fields.deliveryTag);
    if (!batch) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Gives a delivery back to the queue (first flushing acks, so order is kept). */
  requeue(msg: ConsumeMessage): void {
    this.flush();
    this.forget(msg.fields.deliveryTag);
    if (this.isOpen()) this.writer.nack(msg.fields.deliveryTag, false, true);
  }

  flush(): void {
    this.scheduled = false;
    if (this.done.size === 0 || !this.isOpen()) return;
    let prefix = 0;
    while (
      prefix < this.outstanding.length &&
      this.done.has((this.outstanding[prefix] as ConsumeMessage).fields.deliveryTag)
    )
      prefix++;
    if (prefix > 0) {
      const last = this.outstanding[prefix - 1] as ConsumeMessage;
      this.writer.ack(last.fields.deliveryTag, prefix > 1);
      for (const msg of this.outstanding.splice(0, prefix)) this.done.delete(msg.fields.deliveryTag);
    }
    if (this.done.size === 0) return;
    for (const tag of [...this.done]) {
      const i = this.outstanding.findIndex((m) => m.fields.deliveryTag === tag);
      if (i >= 0) this.outstanding.splice(i, 1);
      // Untracked (it should not happen) is still delivered and unacked: ack it rather than drop the ack.
      this.writer.ack(tag, false);
      this.done.delete(tag);
    }
  }

  /** Call before cancelling the consumer: later acks must not overtake the cancel. */
  queueBehind(): void {
    this.writer.queueBehind();
  }

  private forget(tag: number): void {
    const i = this.outstanding.findIndex((m) => m.fields.deliveryTag === tag);
    if (i >= 0) this.outstanding.splice(i, 1);
    this.done.delete(tag);
  }
}
