import type { BrokerTarget } from "../broker/connection.ts";
import { Copier } from "../failures/copier.ts";
import { DEFAULT_REPORT_MS, workerReporter } from "./reports.ts";
import { LazyBroker, reconnecting } from "../broker/lazy-broker.ts";
import { type ConsumeSpec, brokerSessions } from "./session-source.ts";
import type { Handler } from "../task.ts";
import { Worker } from "./worker.ts";
import type { WorkerEvent, WorkerOptions } from "./worker-state.ts";

export type StartOptions = WorkerOptions &
  ConsumeSpec & {
    /**
     * Publish a report (taskq status --workers) this often, on a connection of the reports' own; 0 = none (default
     * DEFAULT_REPORT_MS).
     */
    reportEveryMs?: number;
    /** Told once if the broker refuses the reports' exchange: the worker carries on without reports. */
    onReportsOff?: (why: string) => void;
  };

/** The longest a timer waits (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A worker on real brokers: sessions from `target` (reconnecting as `reconnectTimeoutMs` says),
 * copies and reports each on a connection of their own. Returns at once: await `started` to know it consumes.
 */
export function createWorker(target: BrokerTarget, options: StartOptions, handler: Handler): Worker {
  const emit = (event: WorkerEvent) => options.onEvent?.(event);
  let blocked = false;
  let queueType = options.queueType;
  // Each connection of the worker (its sessions', its copies', its reports') keeps one reconnector
  // for its whole life, and all three one cursor: an address one of them found silent or lost, the
  // next connect of any skips (it goes on with the next address, never the first again).
  const cursor = { next: 0 };
  const copier = new Copier(
    reconnecting(target, { cursor, ...(options.name ? { name: `${options.name} (copies)` } : {}) }),
    {
      // The type the work queue turned out to be (declareWorkQueue): its retry and dead queues follow it.
      get queueType() {
        return queueType;
      },
      onLegacy: (queue) => emit({ type: "legacy-queue", queue }),
      onBlocked: (reason) => {
        if ((reason !== null) === blocked) return; // said once per alarm, however many publishers see it
        blocked = reason !== null;
        emit(reason === null ? { type: "unblocked" } : { type: "blocked", reason });
      },
    },
  );
  const sessions = brokerSessions(
    target,
    {
      ...options,
      // The library's timeoutMs settles a task at its deadline: its outcome comes by then.
      ...(options.taskBoundMs === undefined && options.timeoutMs !== undefined
        ? { taskBoundMs: options.timeoutMs }
        : {}),
      onQueueType: (type) => {
        queueType = type;
        options.onQueueType?.(type);
        emit({ type: "queue-type", queue: options.queue, queueType: type });
      },
    },
    { cursor },
  );
  const intervalMs = Math.min(options.reportEveryMs ?? DEFAULT_REPORT_MS, MAX_TIMER_MS);
  if (!(intervalMs > 0)) return new Worker(sessions, copier, options, handler);
  const { queue, concurrency, prefetch } = options;
  // The reports' own connection: not the copies' one, which a report published during an alarm
  // would block before a retry copy could even open its channel.
  const link = new LazyBroker(
    reconnecting(target, { cursor, ...(options.name ? { name: `${options.name} (reports)` } : {}) }),
  );
  const reporter = workerReporter(
    { queue, concurrency, prefetch, intervalMs },
    { connection: () => link.current(), ...(options.onReportsOff ? { onOff: options.onReportsOff } : {}) },
  );
  // No connection of the reports' own before the worker consumes: its first session must get the
  // first address that answers (a second connection racing it could take that one).
  const onEvent = (event: WorkerEvent) => {
    reporter.observe(event);
    options.onEvent?.(event);
  };
  // The worker closes the copies' connection as it stops, and the reports' with it once the last report went out.
  const copies = {
    publish: copier.publish.bind(copier),
    close: () => Promise.all([copier.close(), reporter.flushed().then(() => link.close())]).then(() => {}),
  };
  return new Worker(sessions, copies, { ...options, onEvent }, handler);
}

/** `createWorker`, resolved once it consumes (rejected if it could not start). */
export async function startWorker(target: BrokerTarget, options: StartOptions, handler: Handler): Promise<Worker> {
  const worker = createWorker(target, options, handler);
  await worker.started;
  return worker;
}
