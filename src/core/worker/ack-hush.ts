import type { ConsumeMessage } from "amqplib";
import type { Acker } from "./acker.ts";
import type { Hush } from "./consumer.ts";

/**
 * How long a hushed consumer that is not full waits for a delivery before it is taken as unfed
 * (its queue had nothing ready for it): above the slow refills of a quorum queue on the local
 * cluster (docs/performance.md, "--prefetch auto").
 */
export const HUSH_QUIET_MS = 100;

interface Hushed {
  prefetch: number;
  held: Array<{ msg: ConsumeMessage; requeue: boolean; batch: boolean }>;
  wake?: () => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * The session's side of a quiet cancel (consumer.ts, its invariant): while a consumer is hushed, the
 * acks and requeues of its deliveries are held here, so no credit frees and nothing new is sent to
 * it; `hush` resolves when it holds its whole prefetch unsettled (nothing in flight) or after
 * HUSH_QUIET_MS without a delivery to it. Only where the broker hands back what is in flight at a
 * cancel (`returns`: quorum queues); elsewhere it resolves at once and holds nothing.
 */
export class AckHush implements Hush {
  private readonly hushed = new Map<string, Hushed>();

  constructor(
    private readonly acker: Acker,
    private readonly returns: boolean,
    private readonly quietMs = HUSH_QUIET_MS,
  ) {}

  /** Holds an ack or requeue of a hushed consumer's delivery: true when held (the caller writes nothing). */
  held(msg: ConsumeMessage, requeue: boolean, batch: boolean): boolean {
    const entry = this.hushed.get(msg.fields.consumerTag);
    if (!entry) return false;
    entry.held.push({ msg, requeue, batch });
    return true;
  }

  /** A delivery came: a hushed consumer may now be full, or its quiet time starts again. */
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
      const check = () => {
        clearTimeout(entry.timer);
        if (this.holding(tag) >= entry.prefetch || !this.hushed.has(tag)) return resolve();
        entry.timer = setTimeout(resolve, this.quietMs);
      };
      entry.wake = check;
      check();
    });
  }

  release(tag: string): void {
    const entry = this.hushed.get(tag);
    if (!entry) return;
    clearTimeout(entry.timer);
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
