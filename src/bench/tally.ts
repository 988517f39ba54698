import { now } from "../util/clock.ts";
import type { TaskReport } from "./workers.ts";

/** One task on a worker: `worker` indexes `perWorker`; `start`/`end` are ms since the first publish. */
export interface TimelineTask {
  task: number;
  worker: number;
  start: number;
  end: number;
}

/**
 * What a round's workers reported, task by task (numbered from 1, as the bodies are): each
 * task's first done report counts, a later one is a duplicate. Times are absolute while the
 * round runs; the result makes them relative to the first publish.
 */
export class Tally {
  /** When each task was published, by task number. */
  readonly publishedAt: Float64Array;
  /** How many done reports each task had, by task number. */
  readonly seen: Uint8Array;
  /** Per task counted: publish to start. */
  readonly waits: number[] = [];
  /** Per task counted: publish to end. */
  readonly totals: number[] = [];
  /** Every task counted, when asked to keep it (else empty). */
  readonly timeline: TimelineTask[] = [];
  readonly perWorker: Array<{ tasks: number; busyMs: number }>;
  /** Per worker slot: start, end, start, end... of each task counted. */
  readonly spans: number[][];
  /** Tasks reported done at least once. */
  done = 0;
  duplicates = 0;
  /** Done reports of a redelivery (attempt > 1). */
  redeliveries = 0;
  /** The latest end of a task counted. */
  lastEnd = 0;
  /** When a task was last counted (at first, when the tally began). */
  lastProgress = now();
  /** Resolves when every task was reported done. */
  readonly finished: Promise<void>;
  private allDone!: () => void;

  constructor(
    /** The task count. */
    readonly tasks: number,
    workers: number,
    private readonly keepTimeline: boolean,
  ) {
    this.publishedAt = new Float64Array(tasks + 1);
    this.seen = new Uint8Array(tasks + 1);
    this.perWorker = Array.from({ length: workers }, () => ({ tasks: 0, busyMs: 0 }));
    this.spans = Array.from({ length: workers }, () => []);
    this.finished = new Promise<void>((resolve) => {
      this.allDone = resolve;
    });
  }

  /** Task `index` was just published. */
  published(index: number): void {
    this.publishedAt[index] = now();
  }

  /** The worker in slot `worker` reported `r`; only done reports of this round's tasks count. */
  report(worker: number, r: TaskReport): void {
    const n = this.tasks;
    const index = Number(r.id?.slice(r.id.lastIndexOf("-") + 1));
    if (!(index >= 1 && index <= n) || r.outcome !== "done") return;
    if (r.attempt > 1) this.redeliveries++;
    const times = this.seen[index] ?? 0;
    this.seen[index] = times + 1;
    if (times > 0) {
      this.duplicates++;
      return;
    }
    if (++this.done === n) this.allDone();
    this.lastProgress = now();
    const slot = this.perWorker[worker] as { tasks: number; busyMs: number };
    slot.tasks++;
    slot.busyMs += r.end - r.start;
    this.spans[worker]?.push(r.start, r.end);
    this.waits.push(r.start - (this.publishedAt[index] as number));
    this.totals.push(r.end - (this.publishedAt[index] as number));
    if (r.end > this.lastEnd) this.lastEnd = r.end;
    if (this.keepTimeline) this.timeline.push({ task: index, worker, start: r.start, end: r.end });
  }
}
