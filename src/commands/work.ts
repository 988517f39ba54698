import { Command } from "@commander-js/extra-typings";
import { accessSync, constants } from "node:fs";
import { connect } from "../core/connection.ts";
import type { Handler } from "../core/task.ts";
import { resolveUrl } from "../core/url.ts";
import { type WorkerEvent, startWorker } from "../core/worker.ts";
import { ExitCode, usageError } from "../errors.ts";
import { commandHandler } from "../handlers/command.ts";
import { simulateHandler } from "../handlers/simulate.ts";
import { LineWriter } from "../util/lineWriter.ts";
import { duration, intInRange } from "./parsers.ts";

export interface WorkPlan {
  url: string;
  queue: string;
  prefetch: number;
  concurrency: number;
  maxTasks?: number;
  idleExitMs?: number;
  dotMs: number;
  json: boolean;
  command: string[];
}

type WorkFlags = { url?: string; queue: string; prefetch?: number; concurrency: number; maxTasks?: number; idleExit?: number; dotMs: number; json?: boolean };

/** Flags to one plan. `dashDash` is true when argv had a `--` (then a command must follow). */
export function planWork(command: string[], flags: WorkFlags, dashDash: boolean): WorkPlan {
  if (dashDash && command.length === 0) throw usageError("missing command after '--' (e.g. taskq work -- ./process.sh)");
  const [file] = command;
  if (file !== undefined && !isRunnable(file)) throw usageError(`command not found or not executable: ${file}`);
  const plan: WorkPlan = {
    url: resolveUrl(flags.url),
    queue: flags.queue,
    prefetch: flags.prefetch ?? flags.concurrency,
    concurrency: flags.concurrency,
    dotMs: flags.dotMs,
    json: flags.json ?? false,
    command,
  };
  if (plan.prefetch < plan.concurrency) throw usageError(`--prefetch (${plan.prefetch}) must be at least --concurrency (${plan.concurrency}), or workers sit idle`);
  if (flags.maxTasks !== undefined) plan.maxTasks = flags.maxTasks;
  if (flags.idleExit !== undefined) plan.idleExitMs = flags.idleExit;
  return plan;
}

function isRunnable(file: string): boolean {
  if (!file.includes("/")) return Bun.which(file) !== null;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Prints what happens to tasks: the tutorial's lines, or one JSON line per outcome. */
function reporter(plan: WorkPlan): (event: WorkerEvent) => void {
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const out = new LineWriter();
  return (event) => {
    if (event.type === "ready") {
      err(` [*] Waiting for tasks on '${event.queue}' (prefetch ${event.prefetch}). To exit press CTRL+C`);
    } else if (event.type === "finish") {
      if (plan.json) {
        out.write(
          JSON.stringify({ id: event.task.messageId ?? null, attempt: event.task.attempt, outcome: event.settled === "acked" ? "done" : event.settled, ms: Math.round((event.at - event.startedAt) * 1000) / 1000, start: event.startedAt, end: event.at, pid: process.pid, ...(event.outcome.ok ? {} : { reason: event.outcome.reason }) }),
        );
      } else if (!event.outcome.ok) {
        const where = event.settled === "dead" ? `moved to '${event.deadQueue}'` : `${event.settled}${event.error ? ` (${event.error})` : ""}`;
        err(` [!] task ${event.task.messageId ?? "(no id)"} failed: ${event.outcome.reason}; ${where}`);
      } else if (event.settled === "lost") {
        err(` [!] task ${event.task.messageId ?? "(no id)"} finished but ${event.error}`);
      }
    } else if (event.type === "stopping") {
      out.flush();
      if (!plan.json && event.reason === "signal") err(" [*] Stopping: finishing the task(s) in flight (press CTRL+C again to quit at once)");
    } else if (event.type === "closed") {
      out.flush();
    }
  };
}

export async function runWork(plan: WorkPlan): Promise<number> {
  const handler: Handler =
    plan.command.length > 0 ? commandHandler(plan.command) : simulateHandler({ dotMs: plan.dotMs, ...(plan.json ? {} : { print: (l: string) => console.log(l) }) });
  const broker = await connect(plan.url, { name: `taskq work ${process.pid}` });
  let signals = 0;
  try {
    const worker = await startWorker(
      broker,
      {
        queue: plan.queue,
        prefetch: plan.prefetch,
        concurrency: plan.concurrency,
        ...(plan.maxTasks !== undefined ? { maxTasks: plan.maxTasks } : {}),
        ...(plan.idleExitMs !== undefined ? { idleExitMs: plan.idleExitMs } : {}),
        onEvent: reporter(plan),
      },
      handler,
    );
    const onSignal = () => {
      signals++;
      if (signals === 1) return worker.stop("signal");
      worker.abort(); // kills handler children; the broker redelivers unacked tasks
      process.exit(ExitCode.interrupted);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await worker.done;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    return ExitCode.ok;
  } finally {
    // A close the broker never answers must not hang the process.
    setTimeout(() => process.exit(ExitCode.runtime), 5000).unref();
    await broker.close();
  }
}

export function workCommand() {
  return new Command("work")
    .description("consume tasks with manual acks: ack after the work, dead-letter on failure")
    .argument("[command...]", "run COMMAND per task (after --): body on stdin, exit 0 = done")
    .option("--url <url>", "broker URL (env TASKQ_URL, then AMQP_URL)")
    .option("-q, --queue <name>", "queue to consume", "task_queue")
    .option("-p, --prefetch <n>", "most unacked tasks at once (default: --concurrency)", intInRange(1, 65535))
    .option("-c, --concurrency <n>", "tasks run at once in this process", intInRange(1, 1000), 1)
    .option("--max-tasks <n>", "exit after N tasks", intInRange(1))
    .option("--idle-exit <duration>", "exit when no task came for this long (e.g. 5s)", duration)
    .option("--dot-ms <ms>", "without COMMAND: simulated work per '.' in the body, in ms (the tutorial: 1000)", intInRange(0, 3_600_000), 0)
    .option("--json", "print one JSON line per task outcome instead of the tutorial's lines")
    .passThroughOptions()
    .action(async (command, flags) => {
      // commander drops a bare '--'; a user who typed one meant to give a command.
      const dashDash = process.argv.slice(2).includes("--");
      const code = await runWork(planWork(command, flags, dashDash));
      process.exitCode = code;
    });
}
