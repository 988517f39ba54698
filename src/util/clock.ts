/**
 * Where performance.now() starts on the wall clock, read as Date.now() ticks: Bun's
 * performance.timeOrigin is a millisecond or more off in some processes (docs/performance.md,
 * "Figures behind comments"), which a latency measured across two processes would carry.
 * Costs at most 1 ms of spinning, once.
 */
export const origin = ((): number => {
  const before = Date.now();
  let tick = before;
  while (tick === before) tick = Date.now();
  return tick - performance.now();
})();

/**
 * Wall-clock milliseconds with sub-millisecond precision. Two processes' readings disagree by their
 * anchors' error (up to ~1 ms): to compare across processes exactly, carry mono.ts's clock.
 */
export const now = (): number => origin + performance.now();

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

const blocker = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread `ms` (a futex wait: no CPU burnt, nothing wakes it early, no event runs meanwhile). */
export function blockThread(ms: number): void {
  Atomics.wait(blocker, 0, 0, ms);
}

/**
 * Sleeps `ms` to within tens of microseconds: timers fire late (more so when
 * other processes share the cores) and round to whole milliseconds, so a timer
 * covers all but the last two milliseconds, a futex wait (Atomics.wait:
 * blocking, but not burning CPU) all but the last 0.1 ms (it too wakes late),
 * and a short spin the rest.
 * Simulated work needs this for the bench's efficiency to mean much.
 */
export async function sleepPrecisely(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  const deadline = performance.now() + ms;
  if (ms >= 3) await sleep(Math.floor(ms - 2), signal);
  if (signal?.aborted) return;
  const left = deadline - performance.now() - 0.1;
  if (left > 0) blockThread(left);
  while (performance.now() < deadline) {}
}

/**
 * Waits for `work` to settle, at most `ms`; whether it did. The timer goes with the answer (none keeps a process
 * alive).
 */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
