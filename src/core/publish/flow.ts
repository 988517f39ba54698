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

/** A connection's alarm state, shared by every publisher on it: the broker says `blocked` once per connection. */
interface ConnectionAlarm {
  reason: string | null;
  readonly listeners: Set<(reason: string | null) => void>;
}

const alarms = new WeakMap<ChannelModel, ConnectionAlarm>();

function connectionAlarm(model: ChannelModel): ConnectionAlarm {
  let alarm = alarms.get(model);
  if (alarm) return alarm;
  const state: ConnectionAlarm = { reason: null, listeners: new Set() };
  model.on("blocked", (reason: string) => {
    state.reason = reason;
    for (const listener of state.listeners) listener(reason);
  });
  model.on("unblocked", () => {
    state.reason = null;
    for (const listener of state.listeners) listener(null);
  });
  alarms.set(model, state);
  alarm = state;
  return alarm;
}

/**
 * A connection blocked by the broker (memory or disk alarm): RabbitMQ stops
 * reading from a connection that publishes while an alarm is on. `blocked` is
 * a promise to wait on while it lasts (it ends on 'unblocked', or when the
 * channel closes). The state is the connection's: a publisher opened on a
 * blocked connection starts blocked (the broker does not say it again), and a
 * channel that closes wakes its waiters without saying the alarm lifted.
 */
export class Alarm {
  blocked: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(model: ChannelModel, channel: ConfirmChannel, private readonly onBlocked?: (reason: string | null) => void) {
    const alarm = connectionAlarm(model);
    const listener = (reason: string | null) => (reason === null ? this.lift(true) : this.block(reason));
    alarm.listeners.add(listener);
    if (alarm.reason !== null) this.block(alarm.reason);
    channel.on("close", () => {
      alarm.listeners.delete(listener);
      this.lift(false); // the channel is gone, not the alarm: its next publish throws
    });
  }

  private block(reason: string): void {
    if (this.blocked) return;
    this.onBlocked?.(reason);
    this.blocked = new Promise<void>((resolve) => (this.wake = resolve));
  }

  private lift(tell: boolean): void {
    if (!this.blocked) return;
    const wake = this.wake;
    this.blocked = undefined;
    this.wake = undefined;
    if (tell) this.onBlocked?.(null);
    wake?.();
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
 * Tasks published and not yet confirmed, by publish sequence number (1, 2, ...): a ring indexed
 * by the number, grown when the span from the oldest kept to the newest fills it. Confirms come
 * in order, so this does a Map's work without hashing every task.
 */
export class SentTasks<T> {
  private ring: Array<T | undefined> = new Array(1024).fill(undefined);
  /** Sequence number of the oldest task kept (or `next` when none). */
  private oldest = 1;
  private next = 1;

  /** `seq` is the next sequence number: one more than the last added. */
  add(seq: number, item: T): void {
    if (seq - this.oldest >= this.ring.length) this.grow();
    this.ring[seq % this.ring.length] = item;
    this.next = seq + 1;
  }

  get(seq: number): T | undefined {
    return seq >= this.oldest && seq < this.next ? this.ring[seq % this.ring.length] : undefined;
  }

  delete(seq: number): void {
    if (seq < this.oldest || seq >= this.next) return;
    const size = this.ring.length;
    this.ring[seq % size] = undefined;
    while (this.oldest < this.next && this.ring[this.oldest % size] === undefined) this.oldest++;
  }

  /** Those still kept, oldest first. */
  values(): T[] {
    const out: T[] = [];
    for (let seq = this.oldest; seq < this.next; seq++) {
      const item = this.ring[seq % this.ring.length];
      if (item !== undefined) out.push(item);
    }
    return out;
  }

  private grow(): void {
    const bigger: Array<T | undefined> = new Array(this.ring.length * 2).fill(undefined);
    for (let seq = this.oldest; seq < this.next; seq++) bigger[seq % bigger.length] = this.ring[seq % this.ring.length];
    this.ring = bigger;
  }
}
