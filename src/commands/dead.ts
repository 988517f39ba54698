import { Command } from "@commander-js/extra-typings";
import { withBrokerFlags } from "./broker-flags.ts";
import { DEFAULT_LIST_LIMIT, type DeadFlags, planDead } from "./dead-plan.ts";
import { duration, intInRange } from "./parsers.ts";

/** The selector flags `dead requeue` and `dead purge` share. */
function withSelectors<C extends Command<[], Record<string, unknown>>>(cmd: C, verb: string) {
  return cmd
    .option("--id <message-id>", `${verb} only the tasks with this message id`)
    .option("--reason <text>", `${verb} only the tasks whose reason contains TEXT (case-insensitive)`)
    .option("--exit-code <n>", `${verb} only the tasks whose command exited with N`, intInRange(0, 255))
    .option(
      "--older-than <duration>",
      `${verb} only the tasks dead for longer than this (10m, 2h, by x-taskq-failed-at)`,
      duration,
    )
    .option("--limit <n>", `${verb} at most N tasks (default: all selected)`, intInRange(1))
    .option(
      "--dry-run",
      `print how many tasks and which would be ${verb === "move" ? "moved" : "purged"}, and change nothing`,
    );
}

export function deadCommand() {
  const list = withBrokerFlags(new Command("list"))
    .description("show the dead tasks of <queue>.dead without removing them")
    .option("-q, --queue <name>", "work queue whose dead tasks to show", "task_queue")
    .option("--limit <n>", `show at most N tasks (default ${DEFAULT_LIST_LIMIT})`, intInRange(1))
    .option("--json", "print one JSON line per dead task")
    .action(async (flags) => (await import("./dead-run.ts")).runList(planDead(flags)));
  const requeue = withSelectors(
    withBrokerFlags(new Command("requeue"))
      .description("move dead tasks back to the work queue, with fresh attempts")
      .option("-q, --queue <name>", "work queue to move its dead tasks back to", "task_queue"),
    "move",
  ).action(async (flags) => (await import("./dead-run.ts")).runRequeue(planDead(flags as DeadFlags)));
  const purge = withSelectors(
    withBrokerFlags(new Command("purge"))
      .description("delete dead tasks for good, asking first (selectors combine: AND; none: every dead task)")
      .option("-q, --queue <name>", "work queue whose dead tasks to delete", "task_queue")
      .option("-y, --yes", "do not ask (needed when stdin is not a terminal)"),
    "purge",
  ).action(async (flags) => (await import("./dead-run.ts")).runPurge(planDead(flags as DeadFlags, true)));
  return new Command("dead")
    .description("inspect, requeue and purge the tasks that failed (<queue>.dead)")
    .addCommand(list)
    .addCommand(requeue)
    .addCommand(purge);
}
