import type { ConsumeMessage } from "amqplib";
import { settledWithin } from "../../util/clock.ts";
import { taskFromMessage } from "../task.ts";
import type { WorkSession } from "./session.ts";
import { type SettleContext, handBack } from "./settle.ts";
import { cameBack } from "./came-back.ts";
import { TimeoutKeeper } from "./timeout-keeper.ts";

/**
 * Tasks delivered but never started, handed back to the end of their queue (settle.ts) or sent
 * there, or to `.dead`, because they came back from a dead worker (came-back.ts) or were taken
 * back by the broker while they ran here (timeout-keeper.ts), and the cancel of a stop: what a
 * drain waits for besides the running tasks. `onSettled` after each one.
 */
export class HandBacks {
  private readonly inFlight = new Set<Promise<void>>();
  /** Sessions whose stop's cancel is under way: a delivery to them waits in `pending` (see settleUnrun). */
  private readonly cancelling = new Set<WorkSession>();
  readonly timeouts: TimeoutKeeper;

  constructor(
    private readonly ctx: SettleContext,
    private readonly queue: string,
    private readonly onSettled: () => void,
  ) {
    this.timeouts = new TimeoutKeeper(ctx, queue, (settling) => this.track(settling));
  }

  /** Hand-backs (and cancels) not settled yet. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Cancels the session's consumer, then hands back what it delivered that no task took. */
  stopConsuming(s: WorkSession): void {
    this.track(this.cancelThenHandBack(s));
  }

  /**
   * True when `msg` is not to run here: a task taken back while it ran here (settled or held by the
   * TimeoutKeeper), any delivery while `draining` (handed back), or one that came back from a dead
   * worker (settled by came-back.ts). A task taken back before it started runs, uncounted.
   *
   * Invariant: while a stop's cancel is under way, nothing is handed back: a delivery then is left
   * (false) for the worker's `pending`, unacked, and handed back after the cancel-ok. On a quorum
   * queue the cancel waits with the consumer's acks held (ack-hush.ts) while it still has credit: a
   * copy handed back then comes straight back to it, over and over until it holds its whole
   * prefetch, and each original redelivered with x-delivery-count raised. Held in `pending` it
   * fills the consumer instead, which ends that wait sooner (test/e2e/work-edges.test.ts, a stop with
   * more prefetched than started).
   */
  settleUnrun(s: WorkSession, msg: ConsumeMessage, draining: boolean): boolean {
    const claimed = this.timeouts.claim(s, msg);
    if (claimed === "settled") return true;
    if (draining && this.cancelling.has(s)) return false;
    if (draining) {
      this.handBack(s, msg);
      return true;
    }
    return claimed === undefined && this.cameBack(s, msg);
  }

  handBack(s: WorkSession, msg: ConsumeMessage): void {
    // killed: left for the broker
    if (!this.ctx.killed.aborted) this.track(handBack(this.ctx, s, msg, taskFromMessage(this.queue, msg)));
  }

  /** True when `msg` came back from a dead worker and is settled here instead of running (came-back.ts). */
  cameBack(s: WorkSession, msg: ConsumeMessage): boolean {
    const settling = cameBack(this.ctx, s, msg, this.queue);
    if (settling === undefined) return false;
    this.track(settling);
    return true;
  }

  /** Waits for them all, `ms` at most. */
  async settled(ms: number): Promise<void> {
    await settledWithin(Promise.all(this.inFlight), ms);
    // Acks after a cancel go through amqplib's frame queue, written on the next turns.
    for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private async cancelThenHandBack(s: WorkSession): Promise<void> {
    this.cancelling.add(s);
    try {
      await s.cancel();
    } finally {
      this.cancelling.delete(s);
    }
    for (const msg of s.pending.splice(0)) this.handBack(s, msg);
  }

  private track(p: Promise<void>): void {
    const tracked = p.finally(() => {
      this.inFlight.delete(tracked);
      this.onSettled();
    });
    this.inFlight.add(tracked);
  }
}
