import type { Handler } from "../core/task.ts";
import { HANDLER_EXIT } from "../core/failures/retry-policy.ts";
import type { WorkerEvent, WorkerSummary } from "../core/worker/worker-state.ts";
import { formatMs } from "../util/duration.ts";
import { now } from "../util/clock.ts";
import { mono, toMono } from "../util/mono.ts";
import { type LineSink, LineWriter, SyncLineWriter } from "../util/lineWriter.ts";

/** What `reporter` needs of the plan. */
export interface ReportPlan {
  json: boolean;
  reportBeforeAck: boolean;
  /** One line per task outcome on stderr (-v). */
  verbose?: boolean;
}

const STOPPED_BY: Record<WorkerSummary["reason"], string> = {
  signal: "signal",
  "max-tasks": "--max-tasks",
  idle: "--idle-exit",
  cancelled: "the broker cancelled",
  handler: "the handler failed to start",
};

/** The one line a worker ends with (on stderr): what became of its tasks, and for how long it ran. */
export function summaryLine(s: WorkerSummary, elapsedMs: number): string {
  const extra = `${s.lost > 0 ? `, ${s.lost} left to the broker` : ""}${s.reconnects > 0 ? `, ${s.reconnects} reconnect(s)` : ""}`;
  return ` [*] Stopped (${STOPPED_BY[s.reason]}): ${s.done} done, ${s.retried} retried, ${s.failed} dead, ${s.requeued} handed back${extra} in ${formatMs(elapsedMs)}`;
}

/** The -v line of one task's outcome. */
export function verboseLine(event: Extract<WorkerEvent, { type: "finish" }>): string {
  // Three durations, three words: a run "in"/"after" its time here; a retry's wait "retry in"
  // (failureLine); a deferral's wait "deferred". Never "retry in" for a run time.
  const ran = formatMs(event.at - event.startedAt);
  const head = ` [-] task ${event.task.messageId ?? "(no id)"} attempt ${event.task.attempt}:`;
  if (event.settled === "acked") return `${head} done in ${ran}`;
  if (event.settled === "retry" && deferred(event)) return `${head} not now after ${ran}, deferred`;
  const what = { retry: "failed, to retry", dead: "failed, dead", requeued: "handed back", lost: "lost" }[
    event.settled
  ];
  return `${head} ${what} after ${ran}`;
}

/** A "not now" answer (exit 75): waits like a retry but spends no attempt. */
const deferred = (event: Extract<WorkerEvent, { type: "finish" }>): boolean =>
  event.outcome.ok === false && event.outcome.exitCode === HANDLER_EXIT.notNow;

/** What became of a failed task, after its reason: dead, a retry with its backoff, a deferral with its wait. */
export function failureLine(event: Extract<WorkerEvent, { type: "finish" }>): string {
  const where =
    event.settled === "dead"
      ? `moved to '${event.deadQueue}' (${event.error})`
      : event.settled === "retry"
        ? deferred(event)
          ? `deferred ${formatMs(event.retryInMs ?? 0)} (not now: attempt ${event.task.attempt} not spent)`
          : `attempt ${event.task.attempt} failed, retry in ${formatMs(event.retryInMs ?? 0)}`
        : `${event.settled}${event.error ? ` (${event.error})` : ""}`;
  const reason = event.outcome.ok ? "" : event.outcome.reason;
  return ` [!] task ${event.task.messageId ?? "(no id)"} failed: ${reason}; ${where}`;
}

/**
 * With --report-before-ack: a handler that writes the task's "done" line, unbuffered, when its
 * work succeeded, before the worker acks it. A reader counting lines (taskq bench --chaos) then
 * never misses a task the broker considers done, even if this process is SIGKILLed: the worst
 * is a line for a task that was not acked yet, which the broker gives again (a duplicate:
 * test/e2e/work.test.ts, --report-before-ack).
 */
export function reportingBeforeAck(handler: Handler, out: LineSink): Handler {
  return async (task, signal) => {
    const startedAt = now();
    const outcome = await handler(task, signal);
    if (outcome.ok) out.write(jsonLine({ type: "finish", task, outcome, settled: "acked", startedAt, at: now() }));
    return outcome;
  };
}

/**
 * One `--json` line: {"id","attempt","outcome","ms","start","end","pid","mono"[,"reason"][,"error"]}
 * ("mono": the end on the machine-wide monotonic clock, util/mono.ts, for bench --rate). Built
 * as text (only strings go through JSON.stringify): a task's line was the worker's largest cost of
 * its own after the ack (JSON.stringify of an object with spreads: 6% of a zero-work drain's CPU).
 */
export function jsonLine(event: Extract<WorkerEvent, { type: "finish" }>): string {
  const id = event.task.messageId === undefined ? "null" : JSON.stringify(event.task.messageId);
  const outcome = event.settled === "acked" ? "done" : event.settled; // identifiers: no escaping needed
  const ms = Math.round((event.at - event.startedAt) * 1000) / 1000;
  const reason = event.outcome.ok ? "" : `,"reason":${JSON.stringify(event.outcome.reason)}`;
  const error = event.error ? `,"error":${JSON.stringify(event.error)}` : "";
  return `{"id":${id},"attempt":${event.task.attempt},"outcome":"${outcome}","ms":${ms},"start":${event.startedAt},"end":${event.at},"pid":${process.pid},"mono":${toMono(event.at)}${reason}${error}}`;
}

const TAKEN_BACK = {
  held: "held until its run here ends",
  acked: "acked (it finished here already)",
  settled: "settled with the outcome of its run here",
} as const;

/** The one line a worker says about the broker's consumer timeout, the first time it takes tasks back. */
export function consumerTimeoutLine(event: Extract<WorkerEvent, { type: "consumer-timeout" }>): string {
  const after =
    event.timeoutMs === undefined ? "its consumer timeout" : `its consumer_timeout (${formatMs(event.timeoutMs)})`;
  return ` [!] the broker took back ${event.tasks} running task(s) from '${event.queue}' unacked after ${after}: they run on, and each is settled with its outcome when it comes back here, not run again (after --max-redeliveries takes, to .dead); to stop this, ${event.hint}`;
}

/** Prints what happens to tasks: the tutorial's lines, or one JSON line per outcome. */
export function reporter(plan: ReportPlan): { report: (event: WorkerEvent) => void; out: LineSink } {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  if (plan.json) mono(); // reads libc's clock now, not while the first task's line is due
  const out = plan.reportBeforeAck ? new SyncLineWriter() : new LineWriter(process.stdout, 50);
  // The broker's consumer timeout is said once, in one line; the reconnects it causes are not said.
  let timeoutSaid = false;
  let quietReconnect = false;
  const report = (event: WorkerEvent) => {
    if (event.type === "ready") {
      err(` [*] Waiting for tasks on '${event.queue}' (prefetch ${event.prefetch}). To exit press CTRL+C`);
    } else if (event.type === "finish") {
      if (plan.verbose) err(verboseLine(event));
      if (plan.json) {
        // Already written before the ack: only what happened next, if it was not the ack, is news.
        if (plan.reportBeforeAck && event.outcome.ok && event.settled === "acked") return;
        out.write(jsonLine(event));
      } else if (!event.outcome.ok) {
        err(failureLine(event));
      } else if (event.settled === "lost") {
        err(` [!] task ${event.task.messageId ?? "(no id)"} ${event.error}`);
      }
    } else if (event.type === "stopping") {
      out.flush();
      if (!plan.json && event.reason === "signal")
        err(" [*] Stopping: finishing the task(s) in flight (press CTRL+C again to quit at once)");
    } else if (event.type === "disconnected") {
      const inFlight =
        event.running > 0 ? `; ${event.running} task(s) in flight will be redelivered by the broker` : "";
      err(` [!] ${event.error}${inFlight}; reconnecting`);
    } else if (event.type === "prefetch") {
      if (plan.verbose) err(` [.] prefetch ${event.count} (round trip ${event.rttMs.toFixed(2)} ms)`);
    } else if (event.type === "reconnected") {
      if (!quietReconnect) err(" [*] reconnected; consuming again");
      quietReconnect = false;
    } else if (event.type === "consumer-timeout") {
      quietReconnect = true;
      if (!timeoutSaid) err(consumerTimeoutLine(event));
      timeoutSaid = true;
    } else if (event.type === "taken-back") {
      if (plan.verbose)
        err(
          ` [-] task ${event.task.messageId ?? "(no id)"} came back after the broker took it back: ${TAKEN_BACK[event.action]}`,
        );
    } else if (event.type === "came-back") {
      const id = event.task.messageId ?? "(no id)";
      err(
        ` [!] task ${id} came back from a worker that died (or lost the broker) holding it, running or fetched: ${event.count} of --max-redeliveries ${event.max} in a row; sent to the back of the queue to run again`,
      );
    } else if (event.type === "copy-failed") {
      err(
        ` [!] task ${event.task.messageId ?? "(no id)"}: its copy to '${event.queue}' failed (${event.error}); trying the copy again with backoff (the task is kept, its command is not run again)`,
      );
    } else if (event.type === "blocked") {
      err(
        ` [!] the broker blocks publishing (${event.reason}): retry and dead copies wait until the alarm clears; acks go on`,
      );
    } else if (event.type === "legacy-queue") {
      err(
        ` [!] '${event.queue}' exists with an older taskq's arguments (no x-expires, or for quorum no at-least-once hop): used as it is; it will not go away by itself (delete it when empty to have it declared anew)`,
      );
    } else if (event.type === "queue-type") {
      err(
        ` [*] '${event.queue}' is a ${event.queueType} queue: using it as ${event.queueType} (pass --queue-type ${event.queueType} to say so)`,
      );
    } else if (event.type === "unblocked") {
      err(" [*] the broker lifted the block: copies go out again");
    } else if (event.type === "closed") {
      out.flush();
    }
  };
  return { report, out };
}
