/**
 * taskq as a library: the same core as the CLI (manual acks, redelivery,
 * persistent confirmed tasks, fair dispatch, retries and dead letters), with
 * an in-process handler instead of a command.
 *
 * @example
 * ```ts
 * import { send, work } from "taskq";
 *
 * await send({ queue: "jobs", tasks: ["resize 1.png", "resize 2.png"] });
 *
 * const worker = await work({ queue: "jobs", prefetch: 1 }, async (task) => {
 *   await resize(task.body.toString());  // throw to fail: retried, then dead-lettered
 * });
 * process.on("SIGINT", () => worker.stop("signal"));
 * await worker.done;
 * ```
 * @packageDocumentation
 */
import type { BrokerTarget } from "./core/broker/connection.ts";
import { Reconnector, connect } from "./core/broker/reconnector.ts";
import type { QueueType } from "./core/topology/names.ts";
import { DEFAULT_RETRY, HANDLER_EXIT, type RetryPolicy } from "./core/failures/retry-policy.ts";
import { type SendEvent, type SendResult, sendTasks } from "./core/publish/send-tasks.ts";
import type { Outcome, Task } from "./core/task.ts";
import { parseBrokerUrls, resolveUrls } from "./core/broker/url.ts";
import { startWorker } from "./core/worker/create-worker.ts";
import type { WorkerEvent, WorkerHandle, WorkerState, WorkerSummary } from "./core/worker/worker-state.ts";

export type { Outcome, QueueType, RetryPolicy, SendEvent, SendResult, Task, WorkerEvent, WorkerHandle, WorkerState, WorkerSummary };
export { DEFAULT_RETRY, HANDLER_EXIT };
export { TaskqError } from "./errors.ts";
import { usageError } from "./errors.ts";
import { MAX_HEARTBEAT_S } from "./core/broker/liveness.ts";

/** Where the broker is; everything is optional. */
export interface ConnectionOptions {
  /**
   * One broker, or the nodes of one cluster, tried in order, then round robin after a loss.
   * Default: TASKQ_URL, then AMQP_URL (comma-separated), then amqp://guest:guest@localhost:5672.
   */
  url?: string | string[];
  /** amqps: PEM contents of the CA, client certificate and key. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Keep trying to connect this long (default 5 s). */
  connectTimeoutMs?: number;
  /** After losing the broker, keep reconnecting this long (default 5 min). */
  reconnectTimeoutMs?: number;
  /**
   * AMQP heartbeat in seconds (default 5; 0 = off). A broker or network that stops answering
   * without closing anything (a cut link, a frozen VM) is noticed after two missed beats, 10-15 s
   * at 5, and taskq fails over to the next URL; off, only the operating system notices, after
   * minutes or never. A URL's `?heartbeat=N` wins. See {@link TaskHandler} for what a handler that
   * blocks the event loop does to it.
   */
  heartbeat?: number;
}

export interface SendOptions extends ConnectionOptions {
  /** Default `task_queue`, declared as the tutorial declares it (durable, no arguments). */
  queue?: string;
  queueType?: QueueType;
  /** Task bodies: strings are sent as UTF-8. */
  tasks: Iterable<string | Buffer> | AsyncIterable<string | Buffer>;
  /** Default true (delivery mode 2). */
  persistent?: boolean;
  /** Each task reaches the queue this many milliseconds later (through `<queue>.delay.<ms>`); default 0. */
  delayMs?: number;
  onEvent?: (event: SendEvent) => void;
}

function target(options: ConnectionOptions, timeoutMs?: number): BrokerTarget {
  const urls = resolveUrls(options.url);
  parseBrokerUrls(urls);
  const t: BrokerTarget = { urls, connectTimeoutMs: timeoutMs ?? options.connectTimeoutMs ?? 5000 };
  if (options.tls) t.tls = options.tls;
  if (options.heartbeat !== undefined) {
    const h = options.heartbeat;
    if (!Number.isInteger(h) || h < 0 || h > MAX_HEARTBEAT_S) throw usageError(`heartbeat must be whole seconds from 0 (off) to ${MAX_HEARTBEAT_S}, got ${h}`);
    t.heartbeatS = h;
  }
  return t;
}


async function* asBuffers(tasks: SendOptions["tasks"]): AsyncGenerator<Buffer> {
  for await (const task of tasks) yield typeof task === "string" ? Buffer.from(task) : task;
}

/**
 * Publishes tasks (persistent, with publisher confirms) and resolves once the
 * broker has confirmed every one; rejects with a {@link TaskqError} otherwise.
 *
 * @example
 * ```ts
 * const { sent } = await send({ queue: "jobs", tasks: ["a", "b", "c"] });
 * ```
 */
export async function send(options: SendOptions): Promise<SendResult> {
  const broker = await connect(target(options), { name: "taskq library send" });
  try {
    return await sendTasks(broker, asBuffers(options.tasks), {
      queue: options.queue ?? "task_queue",
      queueType: options.queueType ?? "classic",
      persistent: options.persistent ?? true,
      ...(options.delayMs ? { delayMs: options.delayMs } : {}),
      reconnector: new Reconnector(target(options), { timeoutMs: options.reconnectTimeoutMs ?? 300_000, name: "taskq library send" }),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  } finally {
    await broker.close();
  }
}

export interface WorkOptions extends ConnectionOptions {
  queue?: string;
  queueType?: QueueType;
  /** Most unacked tasks held (default: concurrency); "auto" (classic queues): one more in reserve while tasks are short next to the round trip. */
  prefetch?: number | "auto";
  /** Tasks run at once (default 1). */
  concurrency?: number;
  maxTasks?: number;
  idleExitMs?: number;
  retry?: RetryPolicy;
  onEvent?: (event: WorkerEvent) => void;
  /** How often the worker reports itself to `taskq status --workers`, in ms (default 2000; 0 = never). */
  reportEveryMs?: number;
}

/**
 * What an in-process handler does with a task. Resolve (with nothing) when
 * done: the task is acked. Throw to fail it: it is retried with backoff and,
 * after `retry.maxAttempts`, moved to `<queue>.dead`. Return an {@link Outcome}
 * for finer control, e.g. `{ ok: false, reason, exitCode: HANDLER_EXIT.noRetry }`.
 *
 * A handler runs on the process's event loop, and so do the heartbeats. One that
 * blocks the loop (synchronous CPU work, a busy wait) for longer than two
 * heartbeat intervals (10 s at the default 5 s) sends no heartbeat meanwhile: the
 * broker takes the worker for dead, closes its connection and gives its unacked
 * tasks to other workers; this worker then reconnects, the ack of the task it
 * blocked on goes out on the closed connection and counts for nothing, and the
 * task is done again (`redelivered`). Await between chunks of long CPU work, run it in a worker thread, or
 * raise `heartbeat`. (The CLI's `work -- COMMAND` runs each task in a process of
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
  const concurrency = options.concurrency ?? 1;
  return startWorker(
    target(options),
    {
      queue: options.queue ?? "task_queue",
      queueType: options.queueType ?? "classic",
      prefetch: options.prefetch ?? concurrency,
      concurrency,
      retry: options.retry ?? DEFAULT_RETRY,
      name: `taskq library work ${process.pid}`,
      reconnectTimeoutMs: options.reconnectTimeoutMs ?? 300_000,
      ...(options.maxTasks !== undefined ? { maxTasks: options.maxTasks } : {}),
      ...(options.idleExitMs !== undefined ? { idleExitMs: options.idleExitMs } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.reportEveryMs !== undefined ? { reportEveryMs: options.reportEveryMs } : {}),
    },
    async (task, signal) => {
      try {
        return (await handler(task, signal)) ?? { ok: true };
      } catch (err) {
        return { ok: false, reason: (err as Error)?.message ?? String(err) };
      }
    },
  );
}
