import { median } from "./stats.ts";

/** Failover over the workers that lost their connection to a killed or frozen node (ms). */
export interface Failover {
  p50: number;
  max: number;
  /** Losses measured: the worker did a task again before the round ended. */
  workers: number;
  /** Losses after which the worker did no task again before the round ended or it was killed (not in p50/max). */
  unmeasured: number;
}

/**
 * Failover time, per worker that lost its connection (a node killed or frozen
 * under it), to the end of the first task that worker starts and finishes after
 * it noticed the loss, which it did through another node. A killed node's
 * connections drop when its VM is gone (the kernel then closes its sockets): the
 * clock starts at the worker's "reconnecting" line, so it is the time the cluster
 * and taskq take, not the kill command's. A frozen node closes nothing: the worker
 * notices only when its heartbeat times out (test/e2e/cluster-freeze.test.ts), so the
 * clock starts at the freeze and the figure includes that detection, which is what a user waits. Workers are
 * numbered by the bench, one number per process.
 */
export class FailoverClock {
  /**
   * Per worker cut off: when its clock started, and when it noticed (a task started before came through the lost node).
   */
  private readonly since = new Map<number, { from: number; noticed: number }>();
  private readonly samples: number[] = [];

  /**
   * Worker `worker` said it lost its connection, at `at` (the bench's clock); `from` is when its
   * node froze, if it did (the loss happened then, unseen until the heartbeat timed out).
   */
  lostConnection(worker: number, at: number, from = at): void {
    if (!this.since.has(worker)) this.since.set(worker, { from, noticed: at });
  }

  /**
   * Worker `worker` finished a task it started at `start`, at `end` (its clock: the same wall
   * clock). Only a task started after the loss was seen came through another node: one running
   * when the node died still finishes (and says so, under chaos, before its ack), but its ack
   * cannot go out and the broker gives it again.
   */
  done(worker: number, start: number, end: number): void {
    const since = this.since.get(worker);
    if (since === undefined || start <= since.noticed) return;
    this.samples.push(end - since.from);
    this.since.delete(worker);
  }

  /** `report`, also telling the clock of each task worker `worker` reports done. */
  timing<R extends { outcome: string; start: number; end: number }>(
    worker: number,
    report: (r: R) => void,
  ): (r: R) => void {
    return (r) => {
      report(r);
      if (r.outcome === "done") this.done(worker, r.start, r.end);
    };
  }

  /** Null when no worker lost its connection. */
  figures(): Failover | null {
    const unmeasured = this.since.size;
    const n = this.samples.length;
    if (n === 0 && unmeasured === 0) return null;
    return {
      p50: n === 0 ? Number.NaN : median(this.samples),
      max: n === 0 ? Number.NaN : Math.max(...this.samples),
      workers: n,
      unmeasured,
    };
  }
}
