/**
 * taskq as a library: the same core as the CLI (manual acks, redelivery,
 * persistent confirmed tasks, fair dispatch, retries and dead letters), with
 * an in-process handler instead of a command.
 *
 * @example
 * ```ts
 * import { connect, send, task, work } from "taskq";
 *
 * await send({ queue: "emails", tasks: [{ userId: 42 }, task({ userId: 7 }, { id: "welcome-7", delayMs: 5000 })] });
 *
 * const q = await connect({ queue: "emails" }); // a service's: one connection for all its sends
 * await q.send({ userId: 9 });                  // resolves once the broker confirmed it
 *
 * const worker = await work({ queue: "emails", timeoutMs: 30_000 }, async (task, signal) => {
 *   const { userId } = task.json<{ userId: number }>(); // not JSON: dead at once, unretried
 *   await sendWelcome(userId, { signal });               // throw to fail: retried, then dead-lettered
 * });
 * process.on("SIGINT", () => worker.stop("signal"));
 * await worker.done;
 * ```
 * @packageDocumentation
 */
import { Reconnector, connect as dial } from "./core/broker/reconnector.ts";
import type { QueueType } from "./core/topology/names.ts";
import { DEFAULT_RETRY, HANDLER_EXIT, type RetryPolicy } from "./core/failures/retry-policy.ts";
import { type SendEvent, type SendResult, sendTasks } from "./core/publish/send-tasks.ts";
import type { Outcome, Task } from "./core/task.ts";
import { startWorker } from "./core/worker/create-worker.ts";
import type {
  Settlement,
  StopReason,
  WorkerEvent,
  WorkerHandle,
  WorkerState,
  WorkerSummary,
} from "./core/worker/worker-state.ts";
import { type ConnectionOptions, target } from "./library/target.ts";
import { type TaskInput, encodeTasks } from "./library/encode.ts";
import { checkedTimeout, outcomeOf } from "./library/handler.ts";
import { checkedDelay } from "./library/task-spec.ts";
import { checkedQueue } from "./library/checked-queue.ts";
import { retryPolicy } from "./library/retry.ts";

export type {
  ConnectionOptions,
  Outcome,
  QueueType,
  RetryPolicy,
  SendEvent,
  SendResult,
  Settlement,
  StopReason,
  Task,
  TaskInput,
  WorkerEvent,
  WorkerHandle,
  WorkerState,
  WorkerSummary,
};
export type { HeaderValue, TaskOptions, TaskSpec } from "./library/task-spec.ts";
export { task } from "./library/task-spec.ts";
export type { Client, ClientOptions, ClientSendOptions } from "./library/client.ts";
export { connect } from "./library/client.ts";
export { DEFAULT_RETRY, HANDLER_EXIT };
export { NotJsonError } from "./core/task.ts";
export { TaskqError } from "./errors.ts";

export interface SendOptions extends ConnectionOptions {
  /** Default `task_queue`, declared as the tutorial declares it (durable, no arguments). */
  queue?: string;
  queueType?: QueueType;
  /**
   * The tasks: a string is sent as UTF-8 text and a Buffer or Uint8Array as bytes (no content type,
   * as the CLI sends them); anything else (an object, an array, a number, a boolean, null) as JSON,
   * `content_type: application/json`. A task with its own id, headers or delay: `task(data, options)`.
   */
  tasks: Iterable<TaskInput> | AsyncIterable<TaskInput>;
  /** Default true (delivery mode 2). */
  persistent?: boolean;
  /**
   * Each task reaches the queue this many milliseconds later (through `<queue>.delay.<ms>`); default 0. A `task()`'s
   * own `delayMs` wins.
   */
  delayMs?: number;
  onEvent?: (event: SendEvent) => void;
}

/**
 * Publishes tasks (persistent, with publisher confirms) and resolves once the
 * broker has confirmed every one; rejects with a {@link TaskqError} otherwise. One connection
 * per call, for scripts: a service keeps a client ({@link connect}) instead.
 *
 * @example
 * ```ts
 * const { sent } = await send({ queue: "jobs", tasks: ["a", "b", "c"] });
 * ```
 */
export async function send(options: SendOptions): Promise<SendResult> {
  const queue = checkedQueue(options.queue ?? "task_queue", "queue");
  const tasks = encodeTasks(options.tasks);
  checkedDelay(options.delayMs, "delayMs");
  const broker = await dial(target(options), { name: "taskq library send" });
  try {
    return await sendTasks(broker, tasks, {
      queue,
      queueType: options.queueType ?? "classic",
      persistent: options.persistent ?? true,
      ...(options.delayMs ? { delayMs: options.delayMs } : {}),
      reconnector: new Reconnector(target(options), {
        timeoutMs: options.reconnectTimeoutMs ?? 300_000,
        name: "taskq library send",
      }),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  } finally {
    await broker.close();
  }
}

export interface WorkOptions extends ConnectionOptions {
  queue?: string;
  queueType?: QueueType;
  /**
   * Most unacked tasks held (default: concurrency); "auto": a reserve (1 to 8) while tasks are short next to the
   * round trip, on classic and quorum queues.
   */
  prefetch?: number | "auto";
  /** Tasks run at once (default 1). */
  concurrency?: number;
  maxTasks?: number;
  idleExitMs?: number;
  /** Any of the fields; the others keep their defaults ({@link DEFAULT_RETRY}): `{ maxAttempts: 3 }`. */
  retry?: Partial<RetryPolicy>;
  /**
   * A handler still running after this long fails its task as `work --timeout` fails a command
   * (retried, then dead; reason `timed out after 30s`) and its signal aborts. In-process code cannot
   * be stopped from outside: a handler that ignores the signal is timed out all the same (what it
   * returns later is ignored) but keeps its concurrency slot until it returns. Default: no limit.
   */
  timeoutMs?: number;
  onEvent?: (event: WorkerEvent) => void;
  /** How often the worker reports itself to `taskq status --workers`, in ms (default 2000; 0 = never). */
  reportEveryMs?: number;
}

/**
 * What an in-process handler does with a task. Resolve (with nothing) when
 * done: the task is acked (so is any value that is not an Outcome, e.g. a row a JavaScript handler returns). Throw to
 * fail it: it is retried with backoff and,
 * after `retry.maxAttempts`, moved to `<queue>.dead`. Return an {@link Outcome}
 * for finer control, e.g. `{ ok: false, reason, exitCode: HANDLER_EXIT.noRetry }`.
 * `task.json()` on a body that is not JSON throws a {@link NotJsonError}: left uncaught, the task
 * goes dead at once. `signal` aborts on `timeoutMs` and when the worker is aborted.
 *
 * A handler runs on the process's event loop, and so do the heartbeats. One that blocks the loop
 * (synchronous CPU work, a busy wait) for longer than two heartbeat intervals (10 s at the default
 * 5 s) sends no heartbeat meanwhile: the broker takes the worker for dead, closes its connection
 * and gives its unacked tasks to other workers; this worker then reconnects, the ack of the task it
 * blocked on goes out on the closed connection and counts for nothing, and the task is done again
 * (`redelivered`; test/e2e/liveness.test.ts). Await between chunks of long CPU work, run it in a
 * worker thread, or raise `heartbeat`. (The CLI's `work -- COMMAND` runs each task in a process of
 * its own, so a task can never block taskq's loop.)
 */
export type TaskHandler = (task: Task, signal: AbortSignal) => Promise<void | Outcome>;

/**
 * Consumes a queue with manual acks and runs `handler` for each task.
 * Resolves once consuming; `done` resolves when it stops (`stop()`,
 * `maxTasks`, `idleExitMs`).
 *
 * @example
 * ```ts
 * const worker = await work({ queue: "jobs", maxTasks: 10 }, async (task) => {
 *   console.log(task.body.toString(), "attempt", task.attempt);
 * });
 * const summary = await worker.done; // { done: 10, ... }
 * ```
 */
export async function work(options: WorkOptions, handler: TaskHandler): Promise<WorkerHandle> {
  const queue = checkedQueue(options.queue ?? "task_queue", "queue");
  const concurrency = options.concurrency ?? 1;
  const timeoutMs = checkedTimeout(options.timeoutMs);
  return startWorker(
    target(options),
    {
      queue,
      queueType: options.queueType ?? "classic",
      prefetch: options.prefetch ?? concurrency,
      concurrency,
      retry: retryPolicy(options.retry),
      name: `taskq library work ${process.pid}`,
      reconnectTimeoutMs: options.reconnectTimeoutMs ?? 300_000,
      ...(options.maxTasks !== undefined ? { maxTasks: options.maxTasks } : {}),
      ...(options.idleExitMs !== undefined ? { idleExitMs: options.idleExitMs } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.reportEveryMs !== undefined ? { reportEveryMs: options.reportEveryMs } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    },
    outcomeOf(handler),
  );
}
