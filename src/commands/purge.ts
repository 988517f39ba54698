import { Command } from "@commander-js/extra-typings";
import type { BrokerTarget } from "../core/broker/connection.ts";
import { TaskqError } from "../errors.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { ask, checkCanAsk } from "./confirm.ts";

export interface PurgePlan {
  target: BrokerTarget;
  queue: string;
  yes: boolean;
}

/** Flags to one plan, checked before any connection; `tty`: whether stdin is a terminal to ask on. */
export function planPurge(
  flags: BrokerFlags & { queue: string; yes?: boolean },
  tty = Boolean(process.stdin.isTTY),
): PurgePlan {
  const yes = flags.yes ?? false;
  checkCanAsk("taskq purge", yes, tty);
  return { target: brokerTarget(flags), queue: flags.queue, yes };
}

async function runPurge(plan: PurgePlan): Promise<void> {
  const [{ connect }, { purgeQueue, workQueueInfo }] = await Promise.all([
    import("../core/broker/reconnector.ts"),
    import("../core/admin/queue-purge.ts"),
  ]);
  const broker = await connect(plan.target, { name: "taskq purge" });
  try {
    const info = await workQueueInfo(broker, plan.queue);
    if (info === undefined) throw new TaskqError(`queue '${plan.queue}' does not exist`);
    if (
      !plan.yes &&
      !(await ask(
        `delete the ${info.messageCount} ready task(s) of '${plan.queue}' for good (tasks workers hold unacked are not touched)?`,
      ))
    ) {
      console.log("nothing purged");
      return;
    }
    const purged = await purgeQueue(broker, plan.queue);
    console.log(
      `purged ${purged} ready task(s) from '${plan.queue}' (tasks in progress, unacked by workers, are not touched)`,
    );
  } finally {
    await broker.close();
  }
}

export function purgeCommand() {
  return withBrokerFlags(new Command("purge"))
    .description("delete the ready tasks of a work queue, asking first (tasks in progress are not touched)")
    .option("-q, --queue <name>", "work queue to purge", "task_queue")
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .action(async (flags) => runPurge(planPurge(flags)));
}
