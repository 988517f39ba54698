import { Command } from "@commander-js/extra-typings";
import { DEFAULT_RETRY } from "../core/failures/retry-policy.ts";
import { withBrokerFlags } from "./broker-flags.ts";
import { duration } from "./parsers.ts";
import { planRemove } from "./remove-plan.ts";

export function removeCommand() {
  return withBrokerFlags(new Command("remove"))
    .description(
      "delete a work queue's whole family: the queue, its retry and delay queues, its dead queue (refused while any holds tasks, unless --force)",
    )
    .option("-q, --queue <name>", "work queue whose family to delete", "task_queue")
    .option("--force", "delete them even with tasks in them or consumers on them (the tasks are lost)")
    .option("--dry-run", "print what would be deleted, and delete nothing")
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .option(
      "--retry-delay <duration>",
      "the workers' --retry-delay: names the retry levels to look for without the management API",
      duration,
      DEFAULT_RETRY.baseDelayMs,
    )
    .option(
      "--retry-max-delay <duration>",
      "the workers' --retry-max-delay (same use)",
      duration,
      DEFAULT_RETRY.maxDelayMs,
    )
    .option(
      "--management-url <url>",
      "the management API that lists every queue of the family (default: TASKQ_MANAGEMENT_URL, else http://<broker host>:15672 after the AMQP port + 10000, the broker URL's login)",
    )
    .option("--no-management", "do not ask the management API: look only for the retry levels the delays give")
    .action(async (flags) => (await import("./remove-run.ts")).runRemove(planRemove(flags)));
}
