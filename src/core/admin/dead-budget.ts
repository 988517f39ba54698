/** How many of each identity: a multiset of strings. */
export class Tally {
  private readonly counts = new Map<string, number>();
  private count = 0;

  constructor(items: Iterable<string> = []) {
    for (const item of items) this.add(item);
  }

  get size(): number {
    return this.count;
  }

  has(item: string): boolean {
    return this.counts.has(item);
  }

  add(item: string): void {
    this.counts.set(item, (this.counts.get(item) ?? 0) + 1);
    this.count++;
  }

  /** Takes one `item` out; false when there was none. */
  take(item: string): boolean {
    const n = this.counts.get(item);
    if (n === undefined) return false;
    if (n > 1) this.counts.set(item, n - 1);
    else this.counts.delete(item);
    this.count--;
    return true;
  }
}

/** What one run of a dead walk did with its budget (see DeadBudget). */
export interface DeadCounts {
  /** Acted on, and the broker answered something sent after: known done. */
  done: number;
  /** Acted on, and the connection was lost before any answer (and not found again): perhaps done. */
  uncertain: number;
  /** Acted on, cut off like the uncertain ones, then found again in the dead queue: not done, but spent. */
  cutOff: number;
  /** Agreed to (`agreed`), never found: gone from the dead queue since the preview. */
  gone: number;
  /** Selected but not agreed to (new since the preview): left where they were. */
  added: number;
  /** Every unit spent: no task more will be acted on. */
  full: boolean;
}

/** The acts of one pass over the dead queue, on one channel (see DeadBudget.pass). */
export interface DeadPass {
  /** The act on the task with this identity was written (an ack, a publish). */
  acted(id: string): void;
  /** An answer came after every act written so far: they are done. */
  answered(): void;
  /** The connection was lost: the acts not yet answered are uncertain. */
  lost(): void;
}

/**
 * What a dead walk (`dead purge`, `dead requeue`) may still act on and what became of each act,
 * kept across the passes of one run: a pass cut by a lost connection, then the next one.
 *
 * The invariant (a unit is taken before a task is acted on, and never given back):
 *
 *   done + in flight + uncertain + cutOff = taken <= limit (--limit, or the tasks agreed to)
 *
 * An act is done once the broker answered something sent after it on the same channel (a channel's
 * frames are handled in order, as AMQP 0-9-1 has it; across a cut: test/e2e/dead-cut.test.ts). When
 * the connection is lost between an act and any answer, the broker may have carried it out or not:
 * the act is uncertain, and its unit stays spent. A task found again in the dead queue with an
 * uncertain act's identity (message id and failure time) is most likely the same task, not done;
 * but a dead copy sent twice has the same identity, so `dead purge` spends another unit on deleting
 * it (`cutOff`): whatever the broker did with a cut ack, it never deletes more than the limit.
 * `dead requeue` may spend the same unit again (`retry`): a second copy of one task is a duplicate,
 * never a task more.
 */
export class DeadBudget {
  private taken = 0;
  private done = 0;
  private cutOff = 0;
  private readonly limit: number;
  private readonly uncertain = new Tally();
  /** Agreed identities not yet taken; undefined: any selected task. */
  private readonly agreedLeft: Tally | undefined;
  private readonly agreed: ReadonlySet<string> | undefined;
  private readonly added = new Set<string>();
  private current: DeadPass | undefined;

  constructor(limit?: number, agreed?: readonly string[]) {
    this.limit = Math.min(limit ?? Number.POSITIVE_INFINITY, agreed?.length ?? Number.POSITIVE_INFINITY);
    if (agreed) {
      this.agreedLeft = new Tally(agreed);
      this.agreed = new Set(agreed);
    }
  }

  /** Every unit taken. */
  get full(): boolean {
    return this.taken >= this.limit;
  }

  /** Acts whose outcome is not known, their tasks not found again. */
  get pending(): number {
    return this.uncertain.size;
  }

  /** Takes a unit for a selected task, if one is left (and, with `agreed`, this task was agreed to). */
  take(id: string): boolean {
    if (this.agreed && !this.agreed.has(id)) {
      this.added.add(id);
      return false;
    }
    if (this.full || (this.agreedLeft && !this.agreedLeft.take(id))) return false;
    this.taken++;
    return true;
  }

  /** A task with an uncertain act's identity found again (purge): that act counts as cut off. */
  foundAgain(id: string): void {
    if (this.uncertain.take(id)) this.cutOff++;
  }

  /** A task with an uncertain act's identity found again (requeue): acted on again with that act's unit. */
  retry(id: string): boolean {
    return this.uncertain.take(id);
  }

  /** A new pass, on a new channel: one still open belongs to a lost connection. */
  pass(): DeadPass {
    this.current?.lost();
    const flight: string[] = [];
    const pass: DeadPass = {
      acted: (id) => void flight.push(id),
      answered: () => {
        this.done += flight.length;
        flight.length = 0;
      },
      lost: () => {
        for (const id of flight) this.uncertain.add(id);
        flight.length = 0;
      },
    };
    this.current = pass;
    return pass;
  }

  counts(): DeadCounts {
    return {
      done: this.done,
      uncertain: this.uncertain.size,
      cutOff: this.cutOff,
      gone: this.agreedLeft?.size ?? 0,
      added: this.added.size,
      full: this.full,
    };
  }
}
