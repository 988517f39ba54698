/**
 * The open-loop schedule (`bench --rate`): task i (from 1) of a run at R tasks/s is meant to be
 * sent at (i - 1) / R seconds after the start, whatever happened to the tasks before it. Latency is
 * measured from that intended time, not from the publish: a sender that stalls does not hide its
 * backlog (no coordinated omission).
 */

/** When task `index` (from 1) is meant to be sent at `rate` tasks/s: ms after the start. */
export const intendedAt = (index: number, rate: number): number => ((index - 1) * 1000) / rate;

/** How many tasks `ms` at `rate` tasks/s holds (none for no time). */
export const tasksIn = (ms: number, rate: number): number => Math.round((ms * rate) / 1000);

/** What the sender needs of time; tests give it a clock of their own. */
export interface PaceClock {
  now(): number;
  /** Resolves after about `ms` (a timer: never early, often late). */
  sleep(ms: number): Promise<void>;
  /** Lets the event loop turn (the socket written, confirms read) while catching up. */
  turn(): Promise<void>;
}

/**
 * While late, the loop turns once per this many tasks: a backlog goes out in batches, not in one run that starves the
 * socket.
 */
const LATE_BATCH = 64;

/**
 * Yields `count` items at `rate` per second: each one no earlier than its intended time. Ahead of
 * time it sleeps until the next one is due; late (a slow turn, a full confirm window) it yields
 * every due item at once, so the rate is kept on average and the lateness shows in the latency.
 * `onStart` is told the start (time 0 of the schedule) as the first item is asked for; `stop` is
 * asked before each item, and what it returns is thrown (Ctrl+C, a worker gone).
 */
export async function* paced<T>(
  count: number,
  rate: number,
  item: (index: number) => T,
  clock: PaceClock,
  onStart: (t0: number) => void,
  stop: () => Error | undefined = () => undefined,
): AsyncGenerator<T> {
  const t0 = clock.now();
  onStart(t0);
  let late = 0;
  for (let i = 1; i <= count; i++) {
    const reason = stop();
    if (reason) throw reason;
    const due = t0 + intendedAt(i, rate);
    if (due > clock.now()) {
      // Timers are rounded to whole milliseconds and may fire a little early (measured with Bun 1.4): sleep again for
      // the rest.
      while (due > clock.now()) await clock.sleep(due - clock.now());
      late = 0;
    } else if (++late % LATE_BATCH === 0) await clock.turn();
    yield item(i);
  }
}
