import type { Settlement, WorkerEvent } from "../core/worker/worker-state.ts";

/** Task durations in seconds: 5 ms to one minute (Prometheus' defaults, plus 30 s and 60 s). */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The `outcome` label: `acked` reads as `done`, as in `work --json`. */
export type MetricOutcome = "done" | Exclude<Settlement, "acked">;
const OUTCOMES: readonly MetricOutcome[] = ["done", "retry", "dead", "requeued", "lost"];

/**
 * A worker's five metrics, fed only by its WorkerEvents, rendered in the
 * Prometheus text format 0.0.4. Every series exists from the start (counters
 * at 0), so rates and alerts work before the first task.
 *
 * @example
 * const metrics = new WorkerMetrics("emails");
 * startWorker(broker, { queue: "emails", ..., onEvent: (e) => metrics.observe(e) }, handler);
 * metrics.render(); // "# HELP taskq_tasks_total ..."
 */
export class WorkerMetrics {
  private readonly tasks: Record<MetricOutcome, number> = { done: 0, retry: 0, dead: 0, requeued: 0, lost: 0 };
  /** Durations per bucket, not cumulative; the last slot is the +Inf overflow. */
  private readonly durations = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  private durationSum = 0;
  private inFlight = 0;
  private reconnects = 0;
  private up = 0;

  constructor(readonly queue: string) {}

  observe(event: WorkerEvent): void {
    switch (event.type) {
      case "ready":
        this.up = 1;
        break;
      case "reconnected":
        this.reconnects += 1;
        this.up = 1;
        break;
      case "start":
        this.inFlight += 1;
        break;
      case "finish": {
        this.inFlight -= 1;
        this.tasks[event.settled === "acked" ? "done" : event.settled] += 1;
        // `at` and `startedAt` are milliseconds.
        const seconds = Math.max(0, event.at - event.startedAt) / 1000;
        // `le` is inclusive: a duration equal to a bound counts in that bound's bucket.
        const i = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
        const slot = i === -1 ? DURATION_BUCKETS.length : i;
        this.durations[slot] = (this.durations[slot] ?? 0) + 1;
        this.durationSum += seconds;
        break;
      }
      case "disconnected":
      case "stopping":
      case "closed":
        this.up = 0;
        break;
    }
  }

  render(): string {
    const q = `queue="${escapeLabelValue(this.queue)}"`;
    let count = 0;
    const cumulative = (n: number) => {
      count += n;
      return count;
    };
    return [
      ...family("taskq_tasks_total", "counter", "Tasks finished by this worker, by how they were settled."),
      ...OUTCOMES.map((outcome) => `taskq_tasks_total{${q},outcome="${outcome}"} ${this.tasks[outcome]}`),
      ...family("taskq_task_duration_seconds", "histogram", "Time from a task's start to its settlement, in seconds."),
      ...this.durations.map(
        (n, i) => `taskq_task_duration_seconds_bucket{${q},le="${DURATION_BUCKETS[i] ?? "+Inf"}"} ${cumulative(n)}`,
      ),
      `taskq_task_duration_seconds_sum{${q}} ${this.durationSum}`,
      `taskq_task_duration_seconds_count{${q}} ${count}`,
      ...family("taskq_tasks_in_flight", "gauge", "Tasks running now."),
      `taskq_tasks_in_flight{${q}} ${this.inFlight}`,
      ...family("taskq_reconnects_total", "counter", "Times the worker reconnected after losing the broker."),
      `taskq_reconnects_total{${q}} ${this.reconnects}`,
      ...family("taskq_up", "gauge", "1 while the worker is consuming, else 0."),
      `taskq_up ${this.up}`,
      "",
    ].join("\n");
  }
}

/** The lines that open a metric family. The help texts above need no escaping (no `\` or newline). */
function family(name: string, type: "counter" | "gauge" | "histogram", help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** A label value inside double quotes: `\`, `"` and newline are escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
