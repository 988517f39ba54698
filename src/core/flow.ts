import type { ChannelModel, ConfirmChannel } from "amqplib";

/** Resolves on the socket's 'drain', or when the channel closes (then the next publish throws). */
export function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      channel.off("drain", done);
      channel.off("close", done);
      resolve();
    };
    channel.on("drain", done);
    channel.on("close", done);
  });
}

/**
 * A connection blocked by the broker (memory or disk alarm): RabbitMQ stops
 * reading from a connection that publishes while an alarm is on. `blocked` is
 * a promise to wait on while it lasts (it ends on 'unblocked', or when the
 * channel closes).
 */
export class Alarm {
  blocked: Promise<void> | undefined;

  constructor(model: ChannelModel, channel: ConfirmChannel, onBlocked?: (reason: string | null) => void) {
    const onBlock = (reason: string) => {
      if (this.blocked) return;
      onBlocked?.(reason);
      this.blocked = new Promise<void>((resolve) => {
        const lift = () => {
          this.blocked = undefined;
          model.off("unblocked", lift);
          channel.off("close", lift);
          onBlocked?.(null);
          resolve();
        };
        model.on("unblocked", lift);
        channel.on("close", lift);
      });
    };
    model.on("blocked", onBlock);
    channel.on("close", () => model.off("blocked", onBlock));
  }
}

/** Bytes of unconfirmed bodies beyond which an adaptive window stops growing. */
export const ADAPTIVE_MAX_BYTES = 32 * 1024 * 1024;

/**
 * How many tasks may be unconfirmed at once. Fixed, or adaptive up to `max`:
 * it doubles when it is full although half a window was confirmed since it last
 * grew (confirms flow, yet lag: the broker syncing to a slow disk leaves a fixed
 * window's socket idle between them), while the unconfirmed bodies take under
 * ADAPTIVE_MAX_BYTES.
 */
export class ConfirmWindow {
  size: number;
  private readonly max: number;
  private bytes = 0;
  private confirmedSinceGrowth = 0;

  constructor(size: number, max?: number) {
    this.size = Math.max(1, size);
    this.max = Math.max(this.size, max ?? this.size);
  }

  /** Whether `inflight` tasks fill it (growing it first when it may). */
  full(inflight: number): boolean {
    if (inflight >= this.size && this.size < this.max && this.confirmedSinceGrowth >= this.size / 2 && this.bytes < ADAPTIVE_MAX_BYTES) {
      this.size = Math.min(this.max, this.size * 2);
      this.confirmedSinceGrowth = 0;
    }
    return inflight >= this.size;
  }

  published(bytes: number): void {
    this.bytes += bytes;
  }

  confirmed(bytes: number): void {
    this.bytes -= bytes;
    this.confirmedSinceGrowth++;
  }
}

/**
 * Tasks published and not yet confirmed, by publish sequence number (1, 2, ...). Confirms come
 * in order, so an array with a moving start does a Map's work without hashing every task.
 */
export class SentTasks<T> {
  private items: Array<T | undefined> = [];
  /** Index of the oldest task kept. */
  private start = 0;
  /** Sequence number of items[0]. */
  private offset = 1;

  /** `seq` is the next sequence number: one more than the last added. */
  add(seq: number, item: T): void {
    this.items[seq - this.offset] = item;
  }

  get(seq: number): T | undefined {
    return this.items[seq - this.offset];
  }

  delete(seq: number): void {
    const i = seq - this.offset;
    if (i < this.start || i >= this.items.length) return;
    this.items[i] = undefined;
    while (this.start < this.items.length && this.items[this.start] === undefined) this.start++;
    if (this.start >= 1024 && this.start * 2 >= this.items.length) {
      this.items = this.items.slice(this.start);
      this.offset += this.start;
      this.start = 0;
    }
  }

  /** Those still kept, oldest first. */
  values(): T[] {
    return this.items.slice(this.start).filter((item): item is T => item !== undefined);
  }
}
