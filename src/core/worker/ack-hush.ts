import type { ConsumeMessage } from "amqplib";
import type { Acker } from "./acker.ts";
import type { Hush } from "./consumer.ts";

/**
 * How long a hushed consumer that is not full waits for a delivery before it is taken as unfed
 * (its queue had nothing ready for it): above the slow refills of a quorum queue on the local
 * cluster (docs/performance.md, "--prefetch auto").
 */
export const HUSH_QUIET_MS = 100;

/**
 * The longest a consumer stays hushed, deliveries or not: a few round trips, enough for what was
 * on its way at the hush to arrive. It bounds how long acks are held (see AckHush's invariant).
 */
export const HUSH_MAX_MS = 250;

/** The timers a hush runs on: the real ones, or a test's clock. */
export interface HushTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: HushTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Hushed {
  prefetch: number;
  held: Array<{ msg: ConsumeMessage; requeue: boolean; batch: boolean }>;
  wake?: (() => void) | undefined;
  quiet?: unknown;
  deadline?: unknown;
}

/**
 * The session's side of a quiet cancel (consumer.ts, its invariant): while a consumer is hushed, the
 * acks and requeues of its deliveries are held here, so no credit frees and nothing new is sent to
 * it; `hush` resolves when it holds its whole prefetch unsettled (nothing in flight), after
 * HUSH_QUIET_MS without a delivery to it, or HUSH_MAX_MS after it began, whichever comes first.
 * Only where the broker hands back what is in flight at a cancel (`returns`: quorum queues;
 * test/e2e/prefetch-switch.test.ts);
 * elsewhere it resolves at once and holds nothing.
 *
 * Invariant: what is held is the acks and requeues of one consumer's deliveries (at most its
 * prefetch), from the hush until the cancel-ok: HUSH_MAX_MS at most, then one round trip (the
 * cancel's, itself bounded by the caller). At-least-once holds: a task whose ack is held is still
 * unacked on the broker. A connection lost (or the process killed) inside that window costs those
 * tasks a rerun: the broker redelivers them, marked redelivered, though they had succeeded here.
 */
export class AckHush implements Hush {
  private readonly hushed = new Map<string, Hushed>();

  constructor(
    private readonly acker: Acker,
    private readonly returns: boolean,
    private readonly quietMs = HUSH_QUIET_MS,
    private readonly timers: HushTimers = realTimers,
    private readonly maxMs = HUSH_MAX_MS,
  ) {}

  /** Holds an ack or requeue of a hushed consumer's delivery: true when held (the caller writes nothing). */
  held(msg: ConsumeMessage, requeue: boolean, batch: boolean): boolean {
    const entry = this.hushed.get(msg.fields.consumerTag);
    if (!entry) return false;
    entry.held.push({ msg, requeue, batch });
    return true;
  }

  /** A delivery came: a hushed consumer may now be full, or its quiet time starts again (not its HUSH_MAX_MS). */
  delivered(msg: ConsumeMessage): void {
    this.hushed.get(msg.fields.consumerTag)?.wake?.();
  }

  hush(tag: string, prefetch: number): Promise<void> {
    if (!this.returns) return Promise.resolve();
    // Acks already marked go out first: a credit they free is filled before the count below is final.
    this.acker.flush();
    const entry: Hushed = { prefetch, held: [] };
    this.hushed.set(tag, entry);
    return new Promise<void>((resolve) => {
      const done = () => {
        this.timers.clear(entry.quiet);
        this.timers.clear(entry.deadline);
        entry.wake = undefined;
        resolve();
      };
      const check = () => {
        if (this.holding(tag) >= entry.prefetch || !this.hushed.has(tag)) return done();
        this.timers.clear(entry.quiet);
        entry.quiet = this.timers.set(done, this.quietMs);
      };
      entry.wake = check;
      entry.deadline = this.timers.set(done, this.maxMs);
      check();
    });
  }

  release(tag: string): void {
    const entry = this.hushed.get(tag);
    if (!entry) return;
    this.hushed.delete(tag);
    entry.wake?.();
    for (const { msg, requeue, batch } of entry.held) {
      if (requeue) this.acker.requeue(msg);
      else this.acker.ack(msg, batch);
    }
  }

  /** Releases every hushed consumer's acks (a close: they go out before it). */
  releaseAll(): void {
    for (const tag of [...this.hushed.keys()]) this.release(tag);
  }

  /** Deliveries to `tag` not yet settled on the channel (its held ones included). */
  private holding(tag: string): number {
    let n = 0;
    for (const msg of this.acker.unsettled) if (msg.fields.consumerTag === tag) n++;
    return n;
  }
}
