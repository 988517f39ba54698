// What `taskq work` does once its flags are a plan (work-plan.ts): the handler, the worker, its
// report lines and metrics, and the exit code. work.ts holds the command's flags.
import type { Attempt } from "../core/broker/reconnector.ts";
import type { Handler } from "../core/task.ts";
import type { WorkerEvent } from "../core/worker/worker-state.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { formatMs } from "../util/duration.ts";
import { reporter, reportingBeforeAck, summaryLine } from "./work-report.ts";
import { commandHandler } from "../handlers/command.ts";
import { persistentHandler } from "../handlers/persistent.ts";
import { simulateHandler } from "../handlers/simulate.ts";
import { serveMetrics } from "../metrics/server.ts";
import { WorkerMetrics } from "../metrics/workerMetrics.ts";
import type { WorkPlan } from "./work-plan.ts";

export async function runWork(plan: WorkPlan): Promise<number> {
  if (!plan.metrics) return consume(plan);
  // Bind the port before touching the broker: a taken port fails at once.
  const metrics = new WorkerMetrics(plan.queue);
  const server = serveMetrics(plan.metrics, () => metrics.render());
  process.stderr.write(` [*] Metrics at ${server.url}\n`);
  try {
    return await consume(plan, (event) => metrics.observe(event));
  } finally {
    server.stop();
  }
}

/**
 * SIGINT and SIGTERM, caught from before any handler starts until the worker is done: `action` is
 * what a signal does now, given how many came. Uncaught, a SIGTERM would end taskq at once, past the
 * exit hook that kills the handlers' groups: a handler never outlives taskq.
 */
function catchSignals(action: (count: number) => void) {
  const caught = { count: 0, off: () => {} };
  const listener = () => action(++caught.count);
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  caught.off = () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
  return caught;
}

async function consume(plan: WorkPlan, observe?: (event: WorkerEvent) => void): Promise<number> {
  let fatal: string | undefined;
  let stopWorker = () => {};
  const persistent = plan.persistent
    ? persistentHandler(plan.command, {
        slots: plan.concurrency,
        queue: plan.queue,
        killAfterMs: plan.killAfterMs,
        stderrTail: plan.stderrTail,
        startTimeoutMs: plan.persistent.startTimeoutMs,
        maxTasksPerProcess: plan.persistent.maxTasksPerProcess,
        ...(plan.timeoutMs !== undefined ? { timeoutMs: plan.timeoutMs } : {}),
        onFatal: (why) => {
          fatal = why;
          stopWorker();
        },
        say: (line) => process.stderr.write(` [!] ${line}\n`),
      })
    : undefined;
  // Before the worker: a first signal stops the handlers' starts (killing their processes), a
  // second exits at once (the exit hook kills them).
  let onSignal = (count: number): void => {
    if (count > 1) process.exit(ExitCode.interrupted);
  };
  const signals = catchSignals((count) => {
    persistent?.drain(); // no process is started from now on: a task waiting for one goes back
    onSignal(count);
  });
  let code: number;
  try {
    if (persistent) {
      // Before the broker: a handler that cannot start takes no task.
      const started = await persistent.start().then(
        () => true,
        (err: Error) => {
          if (signals.count > 0) return false;
          throw new TaskqError(err.message);
        },
      );
      if (!started) {
        process.stderr.write(" [*] Stopped (signal) before the handler's handshake: no task taken\n");
        return ExitCode.ok;
      }
    }
    code = await consumeWith(plan, persistent?.handler, observe, (stop, action) => {
      stopWorker = stop;
      onSignal = action;
      if (signals.count > 0) action(1); // came between the handshakes and the worker
    });
  } finally {
    signals.off();
    // Drained: each process's stdin is closed and it exits (after --kill-after, it is killed).
    await persistent?.close(plan.killAfterMs);
  }
  if (fatal !== undefined) throw new TaskqError(fatal);
  return code;
}

async function consumeWith(
  plan: WorkPlan,
  persistent: Handler | undefined,
  observe: ((event: WorkerEvent) => void) | undefined,
  onWorker: (stop: () => void, onSignal: (count: number) => void) => void,
): Promise<number> {
  let handler: Handler =
    persistent ??
    (plan.command.length > 0
      ? commandHandler(plan.command, {
          killAfterMs: plan.killAfterMs,
          stderrTail: plan.stderrTail,
          labelOutput: plan.labelOutput,
          ...(plan.timeoutMs !== undefined ? { timeoutMs: plan.timeoutMs } : {}),
          // With --json, stdout carries only the JSON lines: the command's output goes to stderr.
          ...(plan.json ? { output: "stderr" as const } : {}),
        })
      : simulateHandler({ dotMs: plan.dotMs, ...(plan.json ? {} : { print: (l: string) => console.log(l) }) }));
  const name = `taskq work ${process.pid}`;
  const startedAt = performance.now();
  const { report, out } = reporter(plan);
  if (plan.reportBeforeAck) handler = reportingBeforeAck(handler, out);
  // not at start-up: --help never loads the AMQP code
  const { createWorker } = await import("../core/worker/create-worker.ts");
  const worker = createWorker(
    plan.target,
    {
      queue: plan.queue,
      queueType: plan.queueType,
      prefetch: plan.prefetch,
      concurrency: plan.concurrency,
      ...(plan.maxTasks !== undefined ? { maxTasks: plan.maxTasks } : {}),
      ...(plan.idleExitMs !== undefined ? { idleExitMs: plan.idleExitMs } : {}),
      retry: plan.retry,
      // A command's outcome comes within --timeout, then --kill-after: the broker's consumer timeout is set above it
      // where it can be.
      ...(plan.timeoutMs !== undefined ? { taskBoundMs: plan.timeoutMs + plan.killAfterMs } : {}),
      name,
      reconnectTimeoutMs: plan.reconnectTimeoutMs,
      ...(plan.reportEveryMs !== undefined ? { reportEveryMs: plan.reportEveryMs } : {}),
      onReportsOff: (why: string) => process.stderr.write(` [!] ${why}\n`),
      onAttempt: (a: Attempt) =>
        process.stderr.write(` [!] ${a.error.message}; next try (${a.attempt}) in ${formatMs(a.delayMs)}\n`),
      onEvent: (event) => {
        report(event);
        observe?.(event);
      },
    },
    handler,
  );
  const onSignal = (count: number) => {
    // Drain: tasks in flight finish, however long they take (the close itself is bounded in Session.close).
    if (count === 1) return worker.stop("signal");
    worker.abort(); // kills handler children; the broker redelivers unacked tasks (test/e2e/work.test.ts, 5b)
    // Tasks being handed back finish going back (bounded), and the lines of tasks already
    // settled still go out (a reader counts on them); then exit.
    void worker.handedBack(1000).then(() => {
      out.flush();
      setTimeout(() => process.exit(ExitCode.interrupted), 1000).unref();
      process.stdout.write("", () => process.exit(ExitCode.interrupted));
    });
  };
  onWorker(() => worker.stop("handler"), onSignal);
  await worker.started;
  const summary = await worker.done;
  process.stderr.write(`${summaryLine(summary, performance.now() - startedAt)}\n`);
  if (summary.reason === "cancelled")
    throw new TaskqError(`the broker cancelled consuming from '${plan.queue}' (was the queue deleted?)`);
  return ExitCode.ok;
}
