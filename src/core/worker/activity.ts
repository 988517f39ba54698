import { now } from "../../util/clock.ts";

/** When the worker last saw a task come or go; --idle-exit watches it. */
export class Activity {
  last = now();
  private timer: ReturnType<typeof setInterval> | undefined;

  /** A task came or went now; returns the time. */
  touch(): number {
    this.last = now();
    return this.last;
  }

  /**
   * --idle-exit: checked every quarter of `ms` (10 to 250 ms), `onIdle` once `quiet()` and nothing came or went for
   * `ms`.
   */
  exitWhenIdle(ms: number | undefined, quiet: () => boolean, onIdle: () => void): void {
    if (ms !== undefined)
      this.timer = setInterval(
        () => quiet() && now() - this.last >= ms && onIdle(),
        Math.min(250, Math.max(10, ms / 4)),
      );
  }

  /** Clears the --idle-exit timer (a worker that ended must not keep the process alive). */
  stop(): void {
    clearInterval(this.timer);
  }
}
