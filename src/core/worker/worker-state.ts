import type { Prefetch } from "./auto-prefetch.ts";
import type { RetryPolicy } from "../failures/retry-policy.ts";
import type { Outcome, Task } from "../task.ts";
import type { QueueType } from "../topology/names.ts";

export interface WorkerOptions {
  queue: string;
  /**
   * Most unacked tasks the broker hands this worker (basic.qos); "auto": concurrency, plus one in reserve while tasks
   * are short (AutoPrefetch).
   */
  prefetch: Prefetch;
  /** Most tasks run at once. */
  concurrency: number;
  /** Stop after this many tasks. */
  maxTasks?: number;
  /** Stop once no task arrived or ran for this long. */
  idleExitMs?: number;
  /**
   * Retries of failed tasks (default: 5 attempts, from 1 s, doubling, capped at 5 min), and the deaths in a row a task
   * may cause (default 5).
   */
  retry?: RetryPolicy;
  /**
   * A task whose handler runs longer fails (retried, then dead); its signal aborts. The library's: the CLI's commands
   * have --timeout.
   */
  timeoutMs?: number;
  onEvent?: (event: WorkerEvent) => void;
}

/**
 * The worker's life, one state at a time:
 * - connecting:   opening the first session;
 * - consuming:    a session delivers tasks and they run;
 * - reconnecting: the session was lost; tasks still running finish but cannot be acked
 *                 (the broker redelivers them: test/e2e/faults.test.ts); the reconnector looks for a broker;
 * - draining:     stop asked: no new task starts, the consumer is cancelled, delivered but
 *                 unstarted tasks are handed back, running ones finish and are settled;
 * - stopped:      all of that is done and the connections are closed (`done` resolves);
 * - failed:       a fault that reconnecting cannot mend (`done` rejects).
 */
export type WorkerState = "connecting" | "consuming" | "reconnecting" | "draining" | "stopped" | "failed";

/** Every transition the worker may make; any other is a bug (it throws). */
export const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  connecting: ["consuming", "draining", "failed"],
  consuming: ["reconnecting", "draining", "failed"],
  reconnecting: ["consuming", "draining", "failed"],
  draining: ["stopped", "failed"],
  stopped: [],
  failed: [],
};

export type Settlement = "acked" | "retry" | "dead" | "requeued" | "lost";
/** Why a worker stopped; `handler`: its handler cannot go on (work --persistent's failed starts). */
export type StopReason = "signal" | "max-tasks" | "idle" | "cancelled" | "handler";

export type WorkerEvent =
  | { type: "ready"; queue: string; prefetch: Prefetch; concurrency: number }
  /** `--prefetch auto` changed the prefetch held. */
  | { type: "prefetch"; count: number; rttMs: number }
  | { type: "state"; from: WorkerState; to: WorkerState }
  | { type: "start"; task: Task; at: number }
  | {
      type: "finish";
      task: Task;
      outcome: Outcome;
      settled: Settlement;
      startedAt: number;
      at: number;
      deadQueue?: string;
      retryInMs?: number;
      error?: string;
    }
  /**
   * A task came back from a worker that died (or lost its connection) holding it, `count` times
   * in a row: it goes to the back of the queue with the count, unrun here (failures/redeliveries.ts).
   * At `max` it goes to `.dead` instead: then `start` and `finish` (settled "dead"), no handler run.
   */
  | { type: "came-back"; task: Task; count: number; max: number }
  /**
   * The broker took back deliveries held unacked past its consumer timeout (consumer-timeout.ts):
   * `tasks` were running here and run on; what becomes of them: taken-back.ts. `hint`: how to raise it.
   */
  | { type: "consumer-timeout"; queue: string; tasks: number; timeoutMs?: number; hint: string }
  /**
   * A delivery of a task taken back while it ran here: held until the run ends, acked as a duplicate, or settled with
   * the run's outcome. Not run.
   */
  | { type: "taken-back"; task: Task; action: "held" | "acked" | "settled" }
  /** A retry or dead copy was refused or failed: said once per task; the copy alone is tried again, with backoff. */
  | { type: "copy-failed"; task: Task; queue: string; error: string }
  /** The broker blocked the copies' connection (memory or disk alarm): copies wait until it clears. */
  | { type: "blocked"; reason: string }
  | { type: "unblocked" }
  /** A quorum retry queue declared by an older taskq (no at-least-once strategy): used as it is. */
  | { type: "legacy-queue"; queue: string }
  /**
   * The work queue exists as the other type than asked (classic vs quorum): used as that type, its retry and dead
   * queues too.
   */
  | { type: "queue-type"; queue: string; queueType: QueueType }
  | { type: "disconnected"; error: string; running: number }
  | { type: "reconnected" }
  | { type: "stopping"; reason: StopReason }
  | { type: "closed" };

export interface WorkerSummary {
  done: number;
  failed: number;
  retried: number;
  requeued: number;
  lost: number;
  reconnects: number;
  reason: StopReason;
}

/** A summary before the first task: every count at 0, stopped by a signal unless something else stops it. */
export function emptySummary(): WorkerSummary {
  return { done: 0, failed: 0, retried: 0, requeued: 0, lost: 0, reconnects: 0, reason: "signal" };
}

export interface WorkerHandle {
  readonly state: WorkerState;
  /** Stop taking tasks, finish and settle those running, then close. During an outage it ends the outage at once. */
  stop(reason?: StopReason): void;
  /** Abort running handlers at once; the broker redelivers what is unacked (test/e2e/work-edges.test.ts). */
  abort(): void;
  /**
   * Resolves once the tasks being handed back are (their copy confirmed, the original acked), or
   * after `ms`: call it before exiting on an abort, or each would be in the queue twice.
   */
  handedBack(ms: number): Promise<void>;
  readonly done: Promise<WorkerSummary>;
}
