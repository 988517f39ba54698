import { Command, Option } from "@commander-js/extra-typings";
import type { QueueType } from "../core/topology/names.ts";
import { DEFAULT_RETRY } from "../core/failures/retry-policy.ts";
import { DEFAULT_REPORT_MS } from "../core/topology/reports-exchange.ts";
import { withBrokerFlags } from "./broker-flags.ts";
import { duration, intInRange, prefetch, queueType } from "./parsers.ts";
import { runWork } from "./work-run.ts";
import { planWork } from "./work-plan.ts";

// `taskq work`: its flags; work-plan.ts turns them into a plan (table-tested), work-run.ts runs it.

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
