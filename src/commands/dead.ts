import { Command } from "@commander-js/extra-typings";
import type { BrokerTarget } from "../core/broker/connection.ts";
import { usageError } from "../errors.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { intInRange } from "./parsers.ts";
import { deadTable, deadTaskJson } from "./dead-view.ts";

export const DEFAULT_LIST_LIMIT = 100;

export interface DeadPlan {
  target: BrokerTarget;
  queue: string;
  limit?: number;
  id?: string;
  json: boolean;
}

type DeadFlags = BrokerFlags & { queue: string; limit?: number; id?: string; json?: boolean };

/** Flags to one plan, checked before any connection. */
export function planDead(flags: DeadFlags): DeadPlan {
  // '<queue>.dead' must fit AMQP's 255-byte queue names too.
  if (flags.queue.length === 0 || Buffer.byteLength(flags.queue) > 250) throw usageError("--queue must be 1 to 250 bytes long (its dead queue adds '.dead')");
  if (flags.id !== undefined && flags.id.length === 0) throw usageError("--id cannot be empty");
  const plan: DeadPlan = { target: brokerTarget(flags), queue: flags.queue, json: flags.json ?? false };
  if (flags.limit !== undefined) plan.limit = flags.limit;
  if (flags.id !== undefined) plan.id = flags.id;
  return plan;
}

async function runList(plan: DeadPlan): Promise<void> {
  const [{ connect }, { listDead }] = await Promise.all([import("../core/broker/reconnector.ts"), import("../core/admin/dead-list.ts")]);
  const broker = await connect(plan.target, { name: "taskq dead list" });
  try {
    const list = await Promise.race([listDead(broker, plan.queue, plan.limit ?? DEFAULT_LIST_LIMIT), broker.lost.then((e) => Promise.reject(e))]);
    if (plan.json) {
      if (list.tasks.length === 0) process.stderr.write(`no dead tasks in '${list.deadQueue}'\n`);
      for (const task of list.tasks) console.log(JSON.stringify(deadTaskJson(task)));
      return;
    }
    if (list.tasks.length === 0) {
      console.log(`no dead tasks in '${list.deadQueue}'`);
      return;
    }
    console.log(`${list.total} dead task(s) in '${list.deadQueue}':`);
    for (const line of deadTable(list.tasks)) console.log(line);
    if (list.total > list.tasks.length) console.log(`(showing the first ${list.tasks.length} of ${list.total}; --limit N shows more)`);
  } finally {
    await broker.close();
  }
}

async function runRequeue(plan: DeadPlan): Promise<void> {
  const [{ Reconnector, connect }, { requeueDeadAcross }] = await Promise.all([import("../core/broker/reconnector.ts"), import("../core/admin/dead-requeue.ts")]);
  const broker = await connect(plan.target, { name: "taskq dead requeue" });
  try {
    const onLost = (err: Error) => process.stderr.write(`taskq dead requeue: ${err.message}; reconnecting (tasks not yet moved stay in the dead queue)\n`);
    const options = { ...(plan.limit !== undefined ? { limit: plan.limit } : {}), ...(plan.id !== undefined ? { id: plan.id } : {}), onLost };
    // A node lost mid-move: go on through the next one (nothing moved twice, nothing lost).
    const reconnector = new Reconnector(plan.target, { timeoutMs: 60_000, name: "taskq dead requeue", onAttempt: (a) => process.stderr.write(`taskq dead requeue: ${a.error.message}; next try (${a.attempt}) in ${a.delayMs} ms\n`) });
    const result = await requeueDeadAcross(broker, reconnector, plan.queue, options);
    if (!result.exists) {
      console.log(`no dead tasks in '${result.deadQueue}'`);
      return;
    }
    const none = result.moved === 0 && plan.id !== undefined ? ` (no dead task has message id '${plan.id}')` : "";
    console.log(`moved ${result.moved} task(s) from '${result.deadQueue}' back to '${plan.queue}'${none}`);
  } finally {
    await broker.close();
  }
}

export function deadCommand() {
  const list = withBrokerFlags(new Command("list"))
    .description("show the dead tasks of <queue>.dead without removing them")
    .option("-q, --queue <name>", "work queue whose dead tasks to show", "task_queue")
    .option("--limit <n>", `show at most N tasks (default ${DEFAULT_LIST_LIMIT})`, intInRange(1))
    .option("--json", "print one JSON line per dead task")
    .action(async (flags) => runList(planDead(flags)));
  const requeue = withBrokerFlags(new Command("requeue"))
    .description("move dead tasks back to the work queue, with fresh attempts")
    .option("-q, --queue <name>", "work queue to move its dead tasks back to", "task_queue")
    .option("--limit <n>", "move at most N tasks (default: all)", intInRange(1))
    .option("--id <message-id>", "move only the tasks with this message id")
    .action(async (flags) => runRequeue(planDead(flags)));
  return new Command("dead").description("inspect and requeue the tasks that failed (<queue>.dead)").addCommand(list).addCommand(requeue);
}
