import { Command } from "@commander-js/extra-typings";
import { ANSWER_TIMEOUT_MS } from "../core/broker/liveness.ts";
import { DEFAULT_RETRY } from "../core/failures/retry-policy.ts";
import { ExitCode } from "../errors.ts";
import { withBrokerFlags } from "./broker-flags.ts";
import { duration } from "./parsers.ts";
import { statusJson } from "./status-json.ts";
import { DEFAULT_WATCH_MS, type StatusPlan, planStatus } from "./status-plan.ts";
import { statusTable } from "./status-view.ts";
import { amqp, runWatch, viewFor } from "./status-watch.ts";

const NAME = "taskq status";

async function runOnce(plan: StatusPlan): Promise<void> {
  const { Reconnector, take, collectWorkerReports } = await amqp();
  // A sample only reads: a connection lost or silent while it is taken (no answer within the
  // bound, as for --watch) is dropped and the sample taken again through the next address.
  const reconnector = new Reconnector(plan.target, { timeoutMs: plan.target.connectTimeoutMs, name: NAME });
  const sample = await reconnector.run(
    (broker) => take(broker, plan, plan.workers ? () => collectWorkerReports(broker, plan.queue) : undefined),
    {
      bound: { ms: ANSWER_TIMEOUT_MS, what: "a status sample" },
    },
  );
  if (plan.json) console.log(JSON.stringify(statusJson(sample)));
  else for (const line of statusTable(sample)) console.log(line);
}

/** First Ctrl+C (or SIGTERM) ends the watch: exit 0. A second exits at once (130), should closing hang. */
async function watchUntilSignal(plan: StatusPlan & { watchMs: number }): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(ExitCode.interrupted);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runWatch(plan, viewFor(plan, process.stdout.isTTY === true), controller.signal, NAME);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const HELP_AFTER = `
Reads only: never creates a queue. A work queue that does not exist yet prints
"no such queue yet" and exits 0.

With RabbitMQ's management plugin (its HTTP API, by default on the broker's
host, port 15672, or https and 15671 for an amqps URL, tried after the AMQP
port + 10000 when that is not 5672; TASKQ_MANAGEMENT_URL or --management-url
sets it; with the URL's user and password): tasks in progress (unacked), publish/deliver/ack rates, and every
retry and delay level that exists, listed. Without it (refused, 404, 401, no
answer in time: 5s, 1.5s at the default URL; or --no-management): what AMQP alone can say, and a note of
what is missing and why. Retry levels are then guessed from --retry-delay and
--retry-max-delay (defaults as for work): pass the values your workers use.

The dead tasks are peeked at (fetched unacked and handed back at once; they
stay in order, marked redelivered): the oldest, and the reasons among the
first 100.

--watch: on a terminal a screen redrawn every INTERVAL, with how fast the
ready count changes; into a pipe one line per sample (one JSON object per
line with --json). Ctrl+C ends it with exit 0. A lost broker is shown once
and the watch reconnects.`;

export function statusCommand() {
  return withBrokerFlags(new Command("status"))
    .description(
      "show a work queue's ready and in-progress tasks, consumers, rates, retry levels and dead tasks (read-only)",
    )
    .option("-q, --queue <name>", "work queue to show", "task_queue")
    .option(
      "--retry-delay <duration>",
      "the workers' --retry-delay: names the retry levels to look for without the management API",
      duration,
      DEFAULT_RETRY.baseDelayMs,
    )
    .option("--retry-max-delay <duration>", "the workers' --retry-max-delay", duration, DEFAULT_RETRY.maxDelayMs)
    .option(
      "--management-url <url>",
      "the management plugin's HTTP API (default TASKQ_MANAGEMENT_URL, else http://<broker host>:15672, https://<host>:15671 for amqps, after the AMQP port + 10000; the broker URL's user and password unless this URL has its own)",
    )
    .option("--no-management", "AMQP only: do not ask the management API")
    .option("--workers", "also show the workers' own reports (taskq work --report-every)")
    .option("--json", "print one JSON object (one per line and sample with --watch)")
    .option(
      "--watch [interval]",
      `sample again every INTERVAL (default ${DEFAULT_WATCH_MS / 1000}s) until Ctrl+C`,
      duration,
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (flags) => {
      const plan = planStatus(flags);
      if (plan.watchMs === undefined) await runOnce(plan);
      else await watchUntilSignal({ ...plan, watchMs: plan.watchMs });
    });
}
