/**
 * Which tasks a publisher sends with the mandatory flag, and which queues still need checking.
 *
 * Without the flag, a task to a queue that no longer exists is confirmed and dropped: the broker
 * has done its job (routed to nothing). With it, such a task comes back (basic.return) and the
 * publisher fails. But the flag is not free: a classic queue on RabbitMQ 3.8-3.12 answers every
 * mandatory task with a message of its own to the channel (`mandatory_received`, a leftover the
 * channel ignores since 3.8), and that cost the broker ~9% more CPU per task (median of nine
 * alternating pairs of the same minimal publisher with and without it) and a publisher 2-10% of
 * its rate (scripts/perf medians).
 *
 * So with `every` > 1, one task in `every` per queue carries the flag (the first, then each
 * `every`-th): a queue deleted under the publisher still fails it within `every` tasks. The tasks
 * after a queue's last flagged one are covered by `unverified()`: flush() checks that those queues
 * still exist. What this cannot see: a queue deleted and declared again between two checks (which
 * also drops every task already in it, flag or not).
 */
export class RouteCheck {
  /** Per queue: tasks since its last flagged one. */
  private readonly since = new Map<string, number>();
  /** Per queue with tasks sent without the flag since its last flagged one: the stamp of the last such task. */
  private readonly open = new Map<string, number>();
  private stamp = 0;

  constructor(readonly every: number) {
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`RouteCheck: every must be a positive integer, got ${every}`);
  }

  /** Whether the next task to `queue` carries the flag; `always` for one whose own outcome someone waits for. */
  mandatory(queue: string, always = false): boolean {
    if (this.every === 1) return true;
    const n = this.since.get(queue);
    if (always || n === undefined || n >= this.every - 1) {
      this.since.set(queue, 0);
      this.open.delete(queue);
      return true;
    }
    this.since.set(queue, n + 1);
    this.open.set(queue, ++this.stamp);
    return false;
  }

  /** Queues to check, each with the stamp to hand back to `verified` once it was found. */
  unverified(): Array<[queue: string, stamp: number]> {
    return [...this.open];
  }

  /** `queue` was found to exist after every task sent to it up to `stamp`. */
  verified(queue: string, stamp: number): void {
    if ((this.open.get(queue) ?? Infinity) <= stamp) this.open.delete(queue);
  }
}
