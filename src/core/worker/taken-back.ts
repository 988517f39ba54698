/**
 * Tasks whose delivery the broker took back from this worker by its consumer timeout
 * (consumer-timeout.ts) while they ran here: what this worker knows of them, by message id.
 *
 * Invariant: a task taken back while it runs here runs here once. Every delivery of that attempt
 * that comes back to this worker is not run: while the run goes on it is held, unsettled, and once
 * the run ends it is settled with the run's outcome (acked, or the retry or dead copy, made once);
 * after that, any other delivery of the attempt is acked. And it is taken back at most
 * `maxRedeliveries` times: a delivery of it that comes back after that goes to `<queue>.dead`,
 * unrun, with a reason naming consumer_timeout and how to raise it. Never run for ever by this
 * worker. Shown: test/e2e/consumer-timeout.test.ts (3.10 and 4.3).
 *
 * What "finished" means across workers: one worker knows its own runs only. A redelivery that
 * reaches another worker is a return there like any other: counted in the task's header and bounded
 * by --max-redeliveries (failures/redeliveries.ts) on 3.10 to 4.2, where the broker flags it; on a
 * 4.3 quorum queue the broker shows such a return as x-acquired-count alone (as a consumer switch's)
 * and counts nothing, so there it runs once on each worker it reaches (each then acks it when it
 * comes back). `work --timeout` keeps it from happening there (x-consumer-timeout).
 *
 * An attempt is told by its message id and `roundOf` (the attempt it began as, and its deferrals):
 * the broker's redelivery and taskq's came-back copies keep both, a retry or a "not now" copy
 * does not. Tasks without a message id are not known here (they are counted as returns).
 */
import type { ConsumeMessage } from "amqplib";
import { ATTEMPT_HEADER, DEFERRALS_HEADER, REDELIVERIES_HEADER, headerNumber } from "../headers.ts";
import type { Outcome, Task } from "../task.ts";
import type { ConsumerTimedOut } from "./consumer-timeout.ts";
import type { WorkSession } from "./session.ts";

/** A delivery of a known task, on the session that delivered it. */
export interface Delivered {
  s: WorkSession;
  msg: ConsumeMessage;
}

export interface TakenEntry {
  readonly round: string;
  /** Its deliveries running here (the run that was taken back, or runs begun before). */
  runs: Set<ConsumeMessage>;
  /** Times the broker took back a delivery of it, running or held here. */
  takes: number;
  /** Deliveries of it that came back while it ran here: settled with the run's outcome when it ends. */
  held: Delivered[];
  /**
   * A run's outcome not on the broker yet (its delivery was taken back): the next delivery of it is settled with it.
   */
  owed?: { outcome: Outcome; task: Task };
  /** The run that owes it was counted as lost: its settlement counts it instead. */
  countedLost: boolean;
  /** Its outcome is on the broker (acked, or its copy confirmed): any other delivery of it is a duplicate, acked. */
  settled: boolean;
  /** Delivered here, not started, when it was taken back: it comes back as no worker's failure, and runs. */
  unstarted: boolean;
}

/** Entries kept that no run or held delivery needs, the oldest forgotten first. */
export const MAX_ENTRIES = 10_000;

/** The attempt a delivery began as, and its deferrals: the same on every delivery and came-back copy of one attempt. */
export function roundOf(msg: ConsumeMessage): string {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const attempt = headerNumber(headers[ATTEMPT_HEADER]) ?? 1;
  const returns = headerNumber(headers[REDELIVERIES_HEADER]) ?? 0;
  return `${attempt - returns}/${headerNumber(headers[DEFERRALS_HEADER]) ?? 0}`;
}

/**
 * Whether `msg` came back (the broker's flag, or taskq's count on a copy): only such a delivery can be a known task's.
 */
export const cameBackMark = (msg: ConsumeMessage): boolean =>
  msg.fields.redelivered || msg.properties.headers?.[REDELIVERIES_HEADER] !== undefined;

export class TakenBack {
  private readonly entries = new Map<string, TakenEntry>();
  /** The broker's last word on its timeout: what a dead task's reason says. */
  last: ConsumerTimedOut | undefined;

  get size(): number {
    return this.entries.size;
  }

  /** The entry of `msg`'s attempt, if this worker knows it. */
  of(msg: ConsumeMessage): TakenEntry | undefined {
    const id = msg.properties.messageId as string | undefined;
    if (this.entries.size === 0 || id === undefined) return undefined;
    const entry = this.entries.get(id);
    return entry && entry.round === roundOf(msg) ? entry : undefined;
  }

  /**
   * The broker took back these deliveries (one consumer's, or one channel's): each task counts one
   * take; one `running` here is kept running, one not started (`unstarted`) runs when it comes back.
   */
  taken(why: ConsumerTimedOut, deliveries: readonly ConsumeMessage[], unstarted: ReadonlySet<ConsumeMessage>): void {
    this.last = why;
    const counted = new Set<TakenEntry>();
    for (const msg of deliveries) {
      const id = msg.properties.messageId as string | undefined;
      if (id === undefined) continue;
      let entry = this.of(msg);
      if (!entry) {
        entry = {
          round: roundOf(msg),
          runs: new Set(),
          takes: 0,
          held: [],
          countedLost: false,
          settled: false,
          unstarted: false,
        };
        this.entries.delete(id); // another attempt's entry: this one is newer
        this.entries.set(id, entry);
      }
      if (unstarted.has(msg)) {
        if (entry.takes === 0) entry.unstarted = true;
        continue;
      }
      if (!entry.held.some((h) => h.msg === msg)) entry.runs.add(msg);
      if (!counted.has(entry)) entry.takes++;
      counted.add(entry);
    }
    this.evict();
  }

  /** Forgets `msg`'s entry (an unstarted task that came back, and now runs as any other). */
  forget(msg: ConsumeMessage): void {
    this.entries.delete(msg.properties.messageId as string);
  }

  /** The entry of the run of `msg`, if `msg` is one of its runs. */
  runOf(msg: ConsumeMessage): TakenEntry | undefined {
    const entry = this.of(msg);
    return entry?.runs.has(msg) ? entry : undefined;
  }

  private evict(): void {
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES) return;
      if (entry.runs.size === 0 && entry.held.length === 0) this.entries.delete(id);
    }
  }
}
