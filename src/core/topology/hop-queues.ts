import { now } from "../../util/clock.ts";
import type { Broker } from "../broker/connection.ts";
import {
  type QueueType,
  hopExpiresMs,
  queueArguments,
  redeclareEveryMs,
  renewalTimes,
  retryQueueArguments,
} from "./names.ts";
import { QueueMismatch, checkQueue, declareQueues } from "./queues.ts";

export interface HopQueueOptions {
  /** The expiry's margin over the level (default HOP_EXPIRY_MARGIN_MS; tests use seconds). */
  marginMs?: number;
  /** Told once per queue that exists with other arguments (an older taskq's) and is used as it is. */
  onLegacy?: (queue: string) => void;
}

/**
 * How copies into a hop queue keep it from expiring under them (publish/renewals.ts; the
 * invariant: names.ts, HOP_EXPIRY_MARGIN_MS).
 */
export interface Renewal {
  /** The arguments it is declared with, again, on the publishing channel. */
  readonly arguments: Record<string, unknown>;
  /** A declare goes before the next copy once the last one on the channel is this old (E / 8). */
  readonly everyMs: number;
  /** A copy confirmed later than this after the declare before it was sent goes again (E − L − E / 8). */
  readonly safeMs: number;
}

interface Known {
  /** Undefined for a queue that never expires (no x-expires) or an older taskq's (renewed by `due`). */
  renewal: Renewal | undefined;
  /** When an older taskq's queue must be checked again (clock ms); infinite for the others. */
  due: number;
}

/**
 * The retry and delay queues one publisher uses on one connection: each declared (awaited, so a
 * refusal is seen on a channel of its own) before its first copy; from then on the copies renew
 * its lease themselves (`Renewal`; the argument: HOP_EXPIRY_MARGIN_MS in names.ts). An older
 * taskq's queue, which a declare with our arguments would refuse, is used as it
 * is and checked again every `redeclareEveryMs`.
 */
export class HopQueues {
  private readonly known = new Map<string, Known>();
  private readonly told = new Set<string>();
  private readonly pending = new Map<string, Promise<Renewal | undefined>>();

  constructor(private readonly options: HopQueueOptions = {}) {}

  /** Declares `name` (a hop of `levelMs` back to `target`) unless it already was: how each copy into it renews it. */
  ensure(broker: Broker, name: string, target: string, type: QueueType, levelMs: number): Promise<Renewal | undefined> {
    const known = this.known.get(name);
    if (known !== undefined && now() < known.due) return Promise.resolve(known.renewal);
    const pending =
      this.pending.get(name) ??
      this.declare(broker, name, target, type, levelMs).finally(() => this.pending.delete(name));
    this.pending.set(name, pending);
    return pending;
  }

  private async declare(
    broker: Broker,
    name: string,
    target: string,
    type: QueueType,
    levelMs: number,
  ): Promise<Renewal | undefined> {
    // The broker resets its expiry timer at the declare, no sooner than this (test/e2e/broker-rules.test.ts).
    const started = now();
    const expires = hopExpiresMs(levelMs, this.options.marginMs);
    const args = retryQueueArguments(target, type, expires);
    try {
      await declareQueues(broker, [name], type, args);
    } catch (err) {
      // Declared by an older taskq without x-expires (or, quorum, without the at-least-once
      // strategy): a declare with ours is refused (406). It is used as it is and checked again on
      // the old schedule (a passive declare renews its lease too: test/e2e/broker-rules.test.ts), never
      // a reason to fail a worker or a send (test/e2e/hop-expiry.test.ts).
      if (!(err instanceof QueueMismatch) || (await checkQueue(broker, name)) === undefined) throw err;
      if (!this.told.has(name)) this.options.onLegacy?.(name);
      this.told.add(name);
      const due = expires === undefined ? Number.POSITIVE_INFINITY : started + redeclareEveryMs(expires);
      this.known.set(name, { renewal: undefined, due });
      return undefined;
    }
    // The very arguments of the declare above (queueArguments, as declareQueues builds them).
    const renewal =
      expires === undefined
        ? undefined
        : { arguments: queueArguments(type, args) ?? {}, ...renewalTimes(expires, levelMs) };
    this.known.set(name, { renewal, due: Number.POSITIVE_INFINITY });
    return renewal;
  }

  /** After a failure or on a new connection: declare again before the next copy (it may be gone). */
  forget(name?: string): void {
    if (name === undefined) this.known.clear();
    else this.known.delete(name);
  }
}
