import { Command, Option } from "@commander-js/extra-typings";
import type { Attempt } from "../core/broker/reconnector.ts";
import type { Handler } from "../core/task.ts";
import type { WorkerEvent } from "../core/worker/worker-state.ts";
import type { QueueType } from "../core/topology/names.ts";
import { DEFAULT_RETRY } from "../core/failures/retry-policy.ts";
import { DEFAULT_REPORT_MS } from "../core/topology/reports-exchange.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { formatMs } from "../util/duration.ts";
import { reporter, reportingBeforeAck, summaryLine } from "./work-report.ts";
import { commandHandler } from "../handlers/command.ts";
import { persistentHandler } from "../handlers/persistent.ts";
import { simulateHandler } from "../handlers/simulate.ts";
import { serveMetrics } from "../metrics/server.ts";
import { WorkerMetrics } from "../metrics/workerMetrics.ts";
import { withBrokerFlags } from "./broker-flags.ts";
import { duration, intInRange, prefetch, queueType } from "./parsers.ts";
import { type WorkPlan, planWork } from "./work-plan.ts";

// The plan lives in work-plan.ts (flags to a plan, table-tested); kept importable from here.

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
  if (persistent) {
    // Before the broker: a handler that cannot start takes no task.
    await persistent.start().catch((err: Error) => {
      throw new TaskqError(err.message);
    });
  }
  let code: number;
  try {
    code = await consumeWith(plan, persistent?.handler, observe, (stop) => {
      stopWorker = stop;
    });
  } finally {
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
  onWorker: (stop: () => void) => void,
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
  onWorker(() => worker.stop("signal"));
  let signals = 0;
  const onSignal = () => {
    signals++;
    // Drain: tasks in flight finish, however long they take (the close itself is bounded in Session.close).
    if (signals === 1) return worker.stop("signal");
    worker.abort(); // kills handler children; the broker redelivers unacked tasks
    // Tasks being handed back finish going back (bounded), and the lines of tasks already
    // settled still go out (a reader counts on them); then exit.
    void worker.handedBack(1000).then(() => {
      out.flush();
      setTimeout(() => process.exit(ExitCode.interrupted), 1000).unref();
      process.stdout.write("", () => process.exit(ExitCode.interrupted));
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await worker.started;
    const summary = await worker.done;
    process.stderr.write(`${summaryLine(summary, performance.now() - startedAt)}\n`);
    if (summary.reason === "cancelled")
      throw new TaskqError(`the broker cancelled consuming from '${plan.queue}' (was the queue deleted?)`);
    return ExitCode.ok;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function workCommand() {
  return withBrokerFlags(new Command("work"))
    .description("consume tasks with manual acks: ack after the work, dead-letter on failure")
    .argument("[command...]", "run COMMAND per task (after --): body on stdin, exit 0 = done")
    .option("-q, --queue <name>", "queue to consume", "task_queue")
    .option(
      "--queue-type <type>",
      "declare the queues as classic (the tutorial's) or quorum (replicated)",
      queueType,
      "classic" as QueueType,
    )
    .option(
      "--reconnect-timeout <duration>",
      "after losing the broker, keep trying this long, then exit 3",
      duration,
      300_000,
    )
    .option(
      "-p, --prefetch <n|auto>",
      "most unacked tasks at once (default: --concurrency); auto: one more in reserve while tasks are short next to the round trip",
      prefetch,
    )
    .option("-c, --concurrency <n>", "tasks run at once in this process", intInRange(1, 1000), 1)
    .option("--max-tasks <n>", "exit after N tasks", intInRange(1))
    .option("--idle-exit <duration>", "exit when no task came for this long (e.g. 5s)", duration)
    .option(
      "--dot-ms <ms>",
      "without COMMAND: simulated work per '.' in the body, in ms (the tutorial: 1000)",
      intInRange(0, 3_600_000),
      0,
    )
    .option(
      "--max-attempts <n>",
      "attempts per task before it goes to <queue>.dead",
      intInRange(1, 1000),
      DEFAULT_RETRY.maxAttempts,
    )
    .option(
      "--max-redeliveries <n>",
      "times in a row a task may come back from a worker that died running it (killed, out of memory), or be taken back by the broker's consumer timeout while it runs, before it goes to <queue>.dead instead of running again",
      intInRange(1, 1000),
      DEFAULT_RETRY.maxRedeliveries,
    )
    .option(
      "--max-deferrals <n>",
      "'not now' answers (exit 75) a task may give before it goes to <queue>.dead",
      intInRange(0, 10_000),
      DEFAULT_RETRY.maxDeferrals,
    )
    .option(
      "--retry-delay <duration>",
      "wait before the first retry; doubles each attempt",
      duration,
      DEFAULT_RETRY.baseDelayMs,
    )
    .option("--retry-max-delay <duration>", "longest wait between attempts", duration, DEFAULT_RETRY.maxDelayMs)
    .option(
      "--timeout <duration>",
      "fail a COMMAND running longer (SIGTERM, then SIGKILL); on RabbitMQ 4.3+ quorum queues also sets the broker's consumer timeout above it",
      duration,
    )
    .option("--kill-after <duration>", "after a timeout's SIGTERM, SIGKILL this much later", duration, 5000)
    .option("--json", "print one JSON line per task outcome instead of the tutorial's lines")
    .option("-v, --verbose", "one line per task outcome on stderr: id, attempt, outcome, time taken")
    .option(
      "--stderr-tail <bytes>",
      "keep the last BYTES a failed COMMAND wrote to stderr on its retry and dead copies (dead list shows them; they may hold secrets); 0 = keep none (default: 2048)",
      intInRange(0, 32_768),
    )
    .option("--label-output", "prefix each line a COMMAND writes to stdout and stderr with [<task id>]")
    .option(
      "--persistent",
      "start COMMAND once per --concurrency slot and keep it running: tasks on its stdin, answers on its stdout, one JSON line each (docs/handlers.md)",
    )
    .option(
      "--start-timeout <duration>",
      "with --persistent: the longest wait for a process's handshake line 'taskq-handler 1' (default: 30s)",
      duration,
    )
    .option(
      "--max-tasks-per-process <n>",
      "with --persistent: replace a process by a fresh one after N tasks (a handler that leaks)",
      intInRange(1, 100_000_000),
    )
    .option(
      "--report-before-ack",
      "with --json: write each done task's line at once, before its ack (a reader counting lines then misses no acked task even if this worker is killed with SIGKILL; it may see a task twice)",
    )
    .option("--metrics-port <port>", "serve Prometheus metrics at http://HOST:PORT/metrics", intInRange(1, 65535))
    .option("--metrics-host <host>", "address for --metrics-port to listen on (default: 127.0.0.1)")
    .addOption(
      new Option(
        "--report-every <duration>",
        "publish this worker's report (taskq status --workers) this often; 0 = none",
      )
        .env("TASKQ_REPORT_EVERY")
        .argParser(duration)
        .default(DEFAULT_REPORT_MS),
    )
    .passThroughOptions()
    .action(async (command, flags) => {
      // commander drops a bare '--'; a user who typed one meant to give a command.
      const dashDash = process.argv.slice(2).includes("--");
      const code = await runWork(planWork(command, flags, dashDash));
      process.exitCode = code;
    });
}
