/** `--prefetch`: a number, or "auto" (see AutoPrefetch). */
export type Prefetch = number | "auto";

/** Recent samples a decision looks at. */
const WINDOW = 16;
/**
 * A task in reserve pays when tasks are short next to the round trip: it saves one round trip
 * per task (0.4-0.6 ms measured here) and, at worst, makes one task wait behind another while a
 * worker sits idle. Tasks up to this many round trips long keep one in reserve: 5 ms tasks
 * (mix:90%5ms,10%50ms and cycle:50ms,5ms,5ms,5ms) do, 1-2 s tasks do not.
 */
export const RESERVE_WHILE_TASKS_UNDER_RTTS = 100;
/** Round trip assumed until one is measured (the worker starts without a reserve). */
const INITIAL_RTT_MS = 1;

/**
 * The rule behind `--prefetch auto`: hold `concurrency + 1` tasks while the
 * median of recent tasks is short next to the round trip, `concurrency` while
 * it is long. The round trip is the shortest recent wait for a next task with
 * a slot free and nothing held (an empty queue only makes waits longer, so the
 * shortest is the broker's own).
 */
export class AutoPrefetch {
  private readonly durations: number[] = [];
  private readonly gaps: number[] = [];
  private waitingSince: number | undefined;
  private held: number;

  constructor(private readonly concurrency: number) {
    this.held = concurrency;
  }

  /** A task arrived: if a slot was waiting for it, that wait was a round trip (or an empty queue). */
  delivered(at: number): void {
    if (this.waitingSince !== undefined) this.waited(at - this.waitingSince);
    this.waitingSince = undefined;
  }

  /**
   * A task that ran `ms` finished; `idle` when its slot now waits with nothing held. Returns the
   * prefetch to set when it changes, else undefined.
   */
  freed(at: number, ms: number, idle: boolean): number | undefined {
    this.finished(ms);
    if (idle) this.waitingSince ??= at;
    const want = this.target();
    if (want === this.held) return undefined;
    this.held = want;
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

  /** What it holds now: `concurrency`, or one more. */
  get holding(): number {
    return this.held;
  }

  get rttMs(): number {
    return this.gaps.length > 0 ? Math.min(...this.gaps) : INITIAL_RTT_MS;
  }

  /** The prefetch to hold now. */
  target(): number {
    if (this.durations.length === 0) return this.concurrency;
    const sorted = [...this.durations].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    return median <= RESERVE_WHILE_TASKS_UNDER_RTTS * this.rttMs ? this.concurrency + 1 : this.concurrency;
  }
}

function push(samples: number[], value: number): void {
  samples.push(value);
  if (samples.length > WINDOW) samples.shift();
}
