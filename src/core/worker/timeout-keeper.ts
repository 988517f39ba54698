import type { ConsumeMessage } from "amqplib";
import { now } from "../../util/clock.ts";
import { makeCopy } from "../failures/copy-table.ts";
import { DEFAULT_MAX_REDELIVERIES } from "../failures/redeliveries.ts";
import { type Outcome, type Task, returnsOf, taskFromMessage } from "../task.ts";
import { ConsumerTimedOut, timeoutReason } from "./consumer-timeout.ts";
import type { WorkSession } from "./session.ts";
import { type SettleContext, type Settled, settle, settleCopy } from "./settle.ts";
import { type Delivered, TakenBack, type TakenEntry, cameBackMark } from "./taken-back.ts";

/** What the keeper did with a delivery: "settled" here, unrun; "runs": it runs as a task no worker failed. */
export type Claim = "settled" | "runs";

/**
 * What the worker does about the broker's consumer timeout: records what it took back (the ledger
 * and its invariant: taken-back.ts), and deals with the deliveries of those tasks that come back.
 * `track` is what a drain waits for (HandBacks).
 */
export class TimeoutKeeper {
  readonly ledger = new TakenBack();

  /** Puts its ledger in `ctx.takenBack`, where settleRun finds it. */
  constructor(
    private readonly ctx: SettleContext,
    private readonly queue: string,
    private readonly track: (settling: Promise<void>) => void,
  ) {
    ctx.takenBack = this.ledger;
  }

  /** A session lost: true when the broker closed its channel for its consumer timeout (then recorded as timedOut). */
  lost(s: WorkSession, err: Error): boolean {
    if (!(err instanceof ConsumerTimedOut)) return false;
    this.timedOut(s, err, s.unsettled ?? []);
    return true;
  }

  /**
   * The broker took back `taken` from `s` (a channel's deliveries, or one consumer's on 4.3). Tasks
   * running run on; those not started are forgotten here (on 4.3, where the channel stays, given
   * back with a nack, which the broker ignores for one it took back already:
   * test/e2e/consumer-timeout.test.ts).
   */
  timedOut(s: WorkSession, why: ConsumerTimedOut, taken: readonly ConsumeMessage[]): void {
    const unstarted = new Set(s.pending.filter((msg) => taken.includes(msg)));
    this.ledger.taken(why, taken, unstarted);
    if (s.open && unstarted.size > 0) {
      s.pending.splice(0, s.pending.length, ...s.pending.filter((msg) => !unstarted.has(msg)));
      for (const msg of unstarted) s.requeue(msg);
    }
    this.ctx.emit({
      type: "consumer-timeout",
      queue: this.queue,
      tasks: taken.length - unstarted.size,
      ...(why.timeoutMs === undefined ? {} : { timeoutMs: why.timeoutMs }),
      hint: why.hint,
    });
  }

  /** A delivery of a task this worker knows was taken back, dealt with here (see Claim); undefined for any other. */
  claim(s: WorkSession, msg: ConsumeMessage): Claim | undefined {
    if (this.ledger.size === 0 || !cameBackMark(msg)) return undefined;
    const entry = this.ledger.of(msg);
    if (!entry) return undefined;
    if (entry.unstarted) {
      this.ledger.forget(msg);
      return "runs";
    }
    const task = taskFromMessage(this.queue, msg);
    if (entry.settled) {
      s.ack(msg, false);
      this.ctx.emit({ type: "taken-back", task, action: "acked" });
    } else if (entry.owed) {
      this.track(this.settleOwed(entry, s, msg));
    } else if (entry.runs.size === 0) {
      return undefined; // nothing known to settle it with: a return as any other
    } else if (entry.takes >= (this.ctx.policy.maxRedeliveries ?? DEFAULT_MAX_REDELIVERIES) && this.ledger.last) {
      entry.settled = true;
      this.track(this.toDead(entry, s, msg, task, this.ledger.last));
    } else {
      entry.held.push({ s, msg });
      this.ctx.emit({ type: "taken-back", task, action: "held" });
    }
    return "settled";
  }

  /**
   * The outcome a run owes, settled on this delivery of its task (the run was counted lost: this counts it instead).
   */
  private async settleOwed(entry: TakenEntry, s: WorkSession, msg: ConsumeMessage): Promise<void> {
    const owed = entry.owed as { outcome: Outcome; task: Task };
    delete entry.owed;
    if (entry.countedLost) this.ctx.summary.lost--;
    entry.countedLost = false;
    const settled = await settle(this.ctx, s, msg, owed.task, owed.outcome);
    settledAs(entry, settled, owed, []);
    this.ctx.emit({ type: "taken-back", task: owed.task, action: "settled" });
  }

  /**
   * Taken back `maxRedeliveries` times: to `.dead` unrun, the reason naming the timeout; the run goes on, its outcome
   * dropped.
   */
  private async toDead(
    entry: TakenEntry,
    s: WorkSession,
    msg: ConsumeMessage,
    task: Task,
    why: ConsumerTimedOut,
  ): Promise<void> {
    const startedAt = now();
    this.ctx.emit({ type: "start", task, at: startedAt });
    const outcome: Outcome = { ok: false, reason: timeoutReason(entry.takes, why), exitCode: null, signal: null };
    const source = {
      body: task.body,
      queue: task.queue,
      properties: task.properties,
      attempt: task.attempt - (returnsOf(msg) > 0 ? 1 : 0),
    };
    const decision = {
      action: "dead" as const,
      why: `taken back ${entry.takes === 1 ? "once" : `${entry.takes} times`}: --max-redeliveries ${this.ctx.policy.maxRedeliveries ?? DEFAULT_MAX_REDELIVERIES}`,
    };
    const settled = await settleCopy(this.ctx, s, msg, task, makeCopy(source, { kind: "dead", outcome }), decision);
    entry.settled = settled.settled === "dead";
    this.ctx.emit({ type: "finish", task, outcome, startedAt, at: now(), ...settled });
  }
}

/** Said of a run that ends after its delivery was taken back and nothing of its task came back yet. */
export const OWED =
  "finished, but the broker took it back (its consumer timeout): when it comes back here it is settled with this outcome, not run again";

/**
 * Settles a run that ended: as settle.ts does, unless the broker took back its delivery (the ledger
 * knows it). Then its outcome goes to a delivery of it still open (its own on 4.3, where the channel
 * stays, or one held), or is owed to the next that comes back; the other held ones are acked.
 */
export function settleRun(
  ctx: SettleContext,
  s: WorkSession,
  msg: ConsumeMessage,
  task: Task,
  outcome: Outcome,
): Settled | Promise<Settled> {
  const entry = ctx.takenBack && ctx.takenBack.size > 0 ? ctx.takenBack.runOf(msg) : undefined;
  if (!entry) return settle(ctx, s, msg, task, outcome);
  entry.runs.delete(msg);
  const held = entry.held.splice(0).filter((h) => h.s.open);
  if (entry.settled) {
    for (const h of s.open ? [{ s, msg }, ...held] : held) h.s.ack(h.msg, false);
    return {
      settled: "lost",
      error:
        "finished, but it went to .dead meanwhile (taken back by the broker's consumer timeout too often): this outcome is dropped",
    };
  }
  const to = s.open ? { s, msg } : held.shift();
  if (!to) {
    entry.owed = { outcome, task };
    entry.countedLost = true;
    ctx.summary.lost++;
    return { settled: "lost", error: OWED };
  }
  const settled = settle(ctx, to.s, to.msg, task, outcome);
  return settled instanceof Promise
    ? settled.then((r) => settledAs(entry, r, { outcome, task }, held))
    : settledAs(entry, settled, { outcome, task }, held);
}

/**
 * After the outcome was settled on one delivery: the others are acked; if it was not (a requeue, a lost session), it is
 * owed.
 */
function settledAs(
  entry: TakenEntry,
  settled: Settled,
  owed: { outcome: Outcome; task: Task },
  others: Delivered[],
): Settled {
  entry.settled = settled.settled === "acked" || settled.settled === "retry" || settled.settled === "dead";
  if (!entry.settled) {
    entry.owed = owed;
    entry.countedLost = settled.settled === "lost";
  }
  for (const h of others) {
    if (entry.settled) h.s.ack(h.msg, false);
    else h.s.requeue(h.msg);
  }
  return settled;
}
