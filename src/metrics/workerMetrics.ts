import type { Settlement, WorkerEvent } from "../core/worker.ts";
import { Counter } from "./counter.ts";
import { Gauge } from "./gauge.ts";
import { Histogram } from "./histogram.ts";
import { Registry } from "./registry.ts";

/** The `outcome` label: `acked` reads as `done`, as in `work --json`. */
export type MetricOutcome = "done" | Exclude<Settlement, "acked">;
const OUTCOMES: readonly MetricOutcome[] = ["done", "retry", "dead", "requeued", "lost"];

/**
 * A worker's metrics, fed only by its WorkerEvents. Every series exists from
 * the start (counters at 0), so rates and alerts work before the first task.
 *
 * @example
 * const metrics = new WorkerMetrics("emails");
 * startWorker(broker, { queue: "emails", ..., onEvent: (e) => metrics.observe(e) }, handler);
 * metrics.render(); // "# HELP taskq_tasks_total ..."
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly tasks = this.registry.add(new Counter("taskq_tasks_total", "Tasks finished by this worker, by how they were settled.", ["queue", "outcome"]));
  readonly duration = this.registry.add(new Histogram("taskq_task_duration_seconds", "Time from a task's start to its settlement, in seconds.", ["queue"]));
  readonly inFlight = this.registry.add(new Gauge("taskq_tasks_in_flight", "Tasks running now.", ["queue"]));
  readonly reconnects = this.registry.add(new Counter("taskq_reconnects_total", "Times the worker reconnected after losing the broker.", ["queue"]));
  readonly up = this.registry.add(new Gauge("taskq_up", "1 while the worker is consuming, else 0."));
  private readonly labels: { queue: string };

  constructor(readonly queue: string) {
    this.labels = { queue };
    for (const outcome of OUTCOMES) this.tasks.init({ queue, outcome });
    this.duration.init(this.labels);
    this.inFlight.init(this.labels);
    this.reconnects.init(this.labels);
  }

  observe(event: WorkerEvent): void {
    switch (event.type) {
      case "ready":
        this.up.set({}, 1);
        break;
      case "reconnected":
        this.reconnects.inc(this.labels);
        this.up.set({}, 1);
        break;
      case "start":
        this.inFlight.inc(this.labels);
        break;
      case "finish":
        this.inFlight.dec(this.labels);
        this.tasks.inc({ queue: this.queue, outcome: event.settled === "acked" ? "done" : event.settled });
        // `at` and `startedAt` are milliseconds.
        this.duration.observe(this.labels, Math.max(0, event.at - event.startedAt) / 1000);
        break;
      case "disconnected":
      case "stopping":
      case "closed":
        this.up.set({}, 0);
        break;
    }
  }

  render(): string {
    return this.registry.render();
  }
}
