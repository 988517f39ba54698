/** `--prefetch`: a number, or "auto" (see AutoPrefetch). */
export type Prefetch = number | "auto";

/** Recent samples a decision looks at. */
const WINDOW = 16;
/**
 * A task in reserve pays when tasks are short next to the round trip: it saves one round trip per
 * task and, at worst, makes one task wait behind another while a worker sits idle. Tasks up to this
 * many round trips long keep a reserve: bench's 5 ms tasks do, 1-2 s tasks do not (figures:
 * docs/performance.md).
 */
export const RESERVE_WHILE_TASKS_UNDER_RTTS = 100;
/** Hysteresis: a reserve held is dropped only once tasks are this many round trips long. */
export const DROP_RESERVE_OVER_RTTS = 150;
/**
 * Tasks finished between two changes: a change is a new consumer (three broker round trips, and its
 * acks held until the old one is cancelled: consumer.ts), so the prefetch must not flap with the
 * samples' noise.
 */
export const TASKS_BETWEEN_CHANGES = WINDOW / 2;
/**
 * How much the reserve covers: a task acked is replaced after one refill (ack out, next delivery in). On a quorum queue
 * that wait varies with the leader's load, so the reserve covers two slow refills (the 90th percentile of recent ones:
 * a reserve sized on the median leaves workers idle). On a classic queue a refill is one steady round trip, so the
 * reserve covers one round trip (the shortest recent wait, which a handler holding the event loop cannot lengthen): a
 * larger one only waits behind a long task at the end of a run while another worker sits idle (docs/performance.md,
 * "Quorum queues and --prefetch auto" and "--prefetch auto on 3.10 and 4.3").
 */
const VARYING = { steady: false, refills: 2 };
const STEADY = { steady: true, refills: 1 };
/** Round trip assumed until one is measured (the worker starts without a reserve). */
const INITIAL_RTT_MS = 1;

/**
 * The rule behind `--prefetch auto`: hold `concurrency + reserve` tasks while the median of recent
 * tasks is short next to the round trip, `concurrency` while it is long. The round trip is the
 * shortest recent wait for a next task with a slot free and nothing held (an empty queue only makes
 * waits longer, so the shortest is the broker's own). The reserve is one task, or, where the
 * session can hold more (`maxReserve`), enough tasks to cover its refills (an ack to the delivery
 * it let in; slow ones where refills vary: VARYING): more while tasks are short next to it.
 */
export class AutoPrefetch {
  private readonly durations: number[] = [];
  private readonly gaps: number[] = [];
  private readonly refills: number[] = [];
  /** When each ack not yet answered by a delivery went out, oldest first. */
  private readonly credits: number[] = [];
  private waitingSince: number | undefined;
  private held: number;
  private sinceChange = Number.POSITIVE_INFINITY;
  private maxReserve = 1;
  /** The refills the reserve covers: STEADY (classic) or VARYING (quorum). */
  private cover = VARYING;

  constructor(private readonly concurrency: number) {
    this.held = concurrency;
  }

  /** How many tasks the session can hold in reserve (Session.reserveLimit), and whether its refills are steady. */
  limitReserve(max: number, steadyRefills = false): void {
    this.maxReserve = Math.max(1, max);
    this.cover = steadyRefills ? STEADY : VARYING;
  }

  /** A task arrived: if a slot was waiting for it, that wait was a round trip (or an empty queue). */
  delivered(at: number): void {
    if (this.waitingSince !== undefined) this.waited(at - this.waitingSince);
    this.waitingSince = undefined;
    const credit = this.credits.shift();
    if (credit !== undefined) push(this.refills, at - credit);
  }

  /**
   * A task that ran `ms` finished (its ack goes out now); `idle` when its slot now waits with nothing
   * held. Returns the prefetch to set when it changes, else undefined.
   */
  freed(at: number, ms: number, idle: boolean): number | undefined {
    this.finished(ms);
    if (idle) this.waitingSince ??= at;
    this.credits.push(at);
    // More acks unanswered than tasks held: the queue ran empty; the oldest will never be answered.
    if (this.credits.length > this.held) this.credits.shift();
    this.sinceChange++;
    if (this.sinceChange < TASKS_BETWEEN_CHANGES) return undefined;
    const want = this.target();
    if (want === this.held) return undefined;
    this.held = want;
    this.sinceChange = 0;
    // Deliveries right after a change fill the new limit, not acks: they would pair with the wrong ack.
    this.credits.length = 0;
    return want;
  }

  /** A task ran this long. */
  finished(ms: number): void {
    push(this.durations, ms);
  }

  /** A free slot waited this long for its next task. */
  waited(ms: number): void {
    push(this.gaps, ms);
  }

  /** What it holds now: `concurrency`, or more. */
  get holding(): number {
    return this.held;
  }

  get rttMs(): number {
    return this.gaps.length > 0 ? Math.min(...this.gaps) : INITIAL_RTT_MS;
  }

  /**
   * The wait from an ack to the delivery it let in that the reserve covers: the round trip where refills are steady,
   * else a slow one, the 90th percentile of recent ones (the round trip when none was seen).
   */
  get refillMs(): number {
    if (this.cover.steady || this.refills.length === 0) return this.rttMs;
    return percentile(this.refills, 0.9);
  }

  /** The prefetch to hold now (with hysteresis: a reserve held is kept until tasks are clearly long). */
  target(): number {
    if (this.durations.length === 0) return this.concurrency;
    const task = median(this.durations);
    const limit = this.held > this.concurrency ? DROP_RESERVE_OVER_RTTS : RESERVE_WHILE_TASKS_UNDER_RTTS;
    if (task > limit * this.rttMs) return this.concurrency;
    if (this.maxReserve === 1) return this.concurrency + 1;
    const reserve = task > 0 ? Math.ceil((this.cover.refills * this.refillMs) / task) : this.maxReserve;
    const wanted = this.concurrency + Math.min(this.maxReserve, Math.max(1, reserve));
    // A smaller reserve only when it is clearly enough (a third to spare): no flapping at a boundary.
    if (wanted < this.held && this.held > this.concurrency) {
      const spare = task > 0 ? Math.ceil((this.cover.refills * 1.5 * this.refillMs) / task) : this.maxReserve;
      return Math.max(wanted, Math.min(this.held, this.concurrency + Math.min(this.maxReserve, spare)));
    }
    return wanted;
  }
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * p)] as number;
}

const median = (samples: number[]): number => percentile(samples, 0.5);

function push(samples: number[], value: number): void {
  samples.push(value);
  if (samples.length > WINDOW) samples.shift();
}
