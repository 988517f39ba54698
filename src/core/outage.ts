import { backoffDelay } from "./backoff.ts";

/** A session lost sooner than this after it was set up belongs to the same outage. */
export const YOUNG_SESSION_MS = 5000;

/**
 * One stretch without a working session, for a worker that reconnects: when it
 * began (the reconnect timeout counts from there) and how many sessions died
 * young in it (a broker in a crash loop, a proxy cutting every connection), so
 * those neither restart the clock nor reconnect without a pause.
 */
export class Outage {
  since = 0;
  private youngDeaths = 0;
  private setUpAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: () => number) {}

  /** The connection was lost: a new outage, or more of the same one. */
  lost(): void {
    const now = this.clock();
    if (now - this.setUpAt < YOUNG_SESSION_MS) this.youngDeaths++;
    else {
      this.since = now;
      this.youngDeaths = 0;
    }
  }

  /** A new session is being set up: a loss from here on, within YOUNG_SESSION_MS, is its young death. */
  settingUp(): void {
    this.setUpAt = this.clock();
  }

  /** How long to wait before the next try, after `failedSetups` tries in this round failed. */
  pauseMs(failedSetups: number): number {
    const n = failedSetups + this.youngDeaths;
    return n > 0 ? backoffDelay(n) : 0;
  }
}
