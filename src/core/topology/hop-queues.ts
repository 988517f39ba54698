import { now } from "../../util/clock.ts";
import type { Broker } from "../broker/connection.ts";
import { type QueueType, hopExpiresMs, redeclareEveryMs, retryQueueArguments } from "./names.ts";
import { QueueMismatch, checkQueue, declareQueues } from "./queues.ts";

export interface HopQueueOptions {
  /** The expiry's margin over the level (default HOP_EXPIRY_MARGIN_MS; tests use seconds). */
  marginMs?: number;
  /** Told once per queue that exists with other arguments (an older taskq's) and is used as it is. */
  onLegacy?: (queue: string) => void;
}

/**
 * The retry and delay queues one publisher uses: each declared before its first copy and again
 * once its last declare is `redeclareEveryMs` old, so it never expires while copies go into it
 * (the argument: HOP_EXPIRY_MARGIN_MS in names.ts).
 */
export class HopQueues {
  /** When each queue must be declared again (clock ms). */
  private readonly due = new Map<string, number>();
  private readonly told = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly options: HopQueueOptions = {}) {}

  /** Declares `name` (a hop of `levelMs` back to `target`) unless a recent enough declare covers it. */
  ensure(broker: Broker, name: string, target: string, type: QueueType, levelMs: number): Promise<void> {
    const due = this.due.get(name);
    if (due !== undefined && now() < due) return Promise.resolve();
    const pending = this.pending.get(name) ?? this.declare(broker, name, target, type, levelMs).finally(() => this.pending.delete(name));
    this.pending.set(name, pending);
    return pending;
  }

  private async declare(broker: Broker, name: string, target: string, type: QueueType, levelMs: number): Promise<void> {
    const started = now(); // the broker resets its expiry timer no sooner than this
    const expires = hopExpiresMs(levelMs, this.options.marginMs);
    try {
      await declareQueues(broker, [name], type, retryQueueArguments(target, type, expires));
    } catch (err) {
      // Declared by an older taskq without x-expires (or, quorum, without the at-least-once
      // strategy): a declare with ours is refused (406). It is used as it is and checked again on
      // the same schedule, never a reason to fail a worker or a send.
      if (!(err instanceof QueueMismatch) || (await checkQueue(broker, name)) === undefined) throw err;
      if (!this.told.has(name)) this.options.onLegacy?.(name);
      this.told.add(name);
    }
    this.due.set(name, expires === undefined ? Number.POSITIVE_INFINITY : started + redeclareEveryMs(expires));
  }

  /** After a failure or on a new connection: declare again before the next copy (it may be gone). */
  forget(name?: string): void {
    if (name === undefined) this.due.clear();
    else this.due.delete(name);
  }
}
