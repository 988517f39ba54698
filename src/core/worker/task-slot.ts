/** What the worker hears from a task it runs (run-task.ts); timed-run.ts holds one until the handler returns. */
export interface TaskSlot {
  /** The task's slot is free again: after its finish event, or after settling it failed. */
  freed(startedAt: number): void;
  /** Settling the task failed: a fault of the worker, not of the task. */
  fail(err: Error): void;
}
