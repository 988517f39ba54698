import { type Broker, type BrokerTarget, whileUp } from "../core/broker/connection.ts";
import { TaskqError } from "../errors.ts";
import { Reconnector, connect } from "../core/broker/reconnector.ts";
import { listDead } from "../core/admin/dead-list.ts";
import { previewDead, purgeDeadAcross } from "../core/admin/dead-purge.ts";
import { requeueDeadAcross } from "../core/admin/dead-requeue.ts";
import { deadIdentity, selectsAll } from "../core/admin/dead-select.ts";
import { ask } from "./confirm.ts";
import { DEFAULT_LIST_LIMIT, type DeadPlan } from "./dead-plan.ts";
import { purgeNotes, requeueNotes } from "./dead-report.ts";
import { deadTable, deadTaskJson } from "./dead-view.ts";

export async function runList(plan: DeadPlan): Promise<void> {
  await withBroker(plan.target, "taskq dead list", async (broker) => {
    const list = await whileUp(broker, listDead(broker, plan.queue, plan.limit ?? DEFAULT_LIST_LIMIT));
    if (list.unread !== undefined) throw new TaskqError(`cannot list '${list.deadQueue}' now: ${list.unread}`);
    if (plan.json) {
      if (list.tasks.length === 0) process.stderr.write(`no dead tasks in '${list.deadQueue}'\n`);
      for (const task of list.tasks) console.log(JSON.stringify(deadTaskJson(task)));
      return;
    }
    if (list.tasks.length === 0) return console.log(`no dead tasks in '${list.deadQueue}'`);
    console.log(`${list.total} dead task(s) in '${list.deadQueue}':`);
    for (const line of deadTable(list.tasks)) console.log(line);
    if (list.total > list.tasks.length)
      console.log(`(showing the first ${list.tasks.length} of ${list.total}; --limit N shows more)`);
  });
}

export async function runRequeue(plan: DeadPlan): Promise<void> {
  const name = "taskq dead requeue";
  await withBroker(plan.target, name, async (broker) => {
    if (plan.dryRun)
      return preview(broker, plan, (n, dead) => `move ${n} task(s) of '${dead}' back to '${plan.queue}'`);
    const result = await requeueDeadAcross(broker, reconnector(plan.target, name), plan.queue, {
      ...walkOptions(plan),
      onLost: lostLine(name, "moved"),
    });
    if (!result.exists) return console.log(`no dead tasks in '${result.deadQueue}'`);
    console.log(
      `moved ${result.moved} task(s) from '${result.deadQueue}' back to '${plan.queue}'${noneSelected(plan, result.moved)}`,
    );
    for (const line of requeueNotes(result.deadQueue, plan.queue, result.counts, result.ackUncertain))
      console.log(line);
  });
}

export async function runPurge(plan: DeadPlan): Promise<void> {
  const name = "taskq dead purge";
  await withBroker(plan.target, name, async (broker) => {
    if (plan.dryRun) return preview(broker, plan, (n, dead) => `purge ${n} task(s) of '${dead}'`);
    const options = walkOptions(plan); // one instant for ages: the question's and the purge's
    let agreed: string[] | undefined;
    if (!plan.yes) {
      // Asked before anything is deleted, about the tasks the selectors select now: those are deleted
      // and no other (tasks that die while it asks are left, and said).
      const { deadQueue, tasks } = await previewDead(broker, plan.queue, options);
      if (tasks.length === 0) return console.log(`no dead tasks to purge in '${deadQueue}'${noneSelected(plan, 0)}`);
      if (!(await ask(`delete ${tasks.length} dead task(s) from '${deadQueue}' for good?`)))
        return console.log("nothing purged");
      agreed = tasks.map(deadIdentity);
    }
    const walk = { ...options, ...(agreed ? { agreed } : {}), onLost: lostLine(name, "purged") };
    const result = await purgeDeadAcross(broker, reconnector(plan.target, name), plan.queue, walk);
    if (!result.exists) return console.log(`no dead tasks in '${result.deadQueue}'`);
    console.log(`purged ${result.purged} task(s) from '${result.deadQueue}'${noneSelected(plan, result.purged)}`);
    const bound = {
      ...(plan.limit !== undefined ? { limit: plan.limit } : {}),
      ...(agreed ? { agreed: agreed.length } : {}),
    };
    for (const line of purgeNotes(result.deadQueue, result.counts, bound)) console.log(line);
  });
}

/** --dry-run: how many and which, from a peek that changes nothing. */
async function preview(
  broker: Broker,
  plan: DeadPlan,
  what: (count: number, deadQueue: string) => string,
): Promise<void> {
  const { deadQueue, exists, tasks } = await previewDead(broker, plan.queue, walkOptions(plan));
  if (!exists) return console.log(`no dead tasks in '${deadQueue}'`);
  console.log(`dry run: would ${what(tasks.length, deadQueue)}${noneSelected(plan, tasks.length)}`);
  for (const line of tasks.length > 0 ? deadTable(tasks) : []) console.log(line);
}

function walkOptions(plan: DeadPlan) {
  return { selector: plan.selector, now: Date.now(), ...(plan.limit !== undefined ? { limit: plan.limit } : {}) };
}

const noneSelected = (plan: DeadPlan, count: number): string =>
  count === 0 && !selectsAll(plan.selector) ? " (no dead task matches the selectors)" : "";

const lostLine = (name: string, done: string) => (err: Error) =>
  process.stderr.write(`${name}: ${err.message}; reconnecting (tasks not yet ${done} stay in the dead queue)\n`);

/** A node lost mid-way: go on through the next one (nothing done twice, nothing lost). */
function reconnector(target: BrokerTarget, name: string): Reconnector {
  return new Reconnector(target, {
    timeoutMs: 60_000,
    name,
    onAttempt: (a) => process.stderr.write(`${name}: ${a.error.message}; next try (${a.attempt}) in ${a.delayMs} ms\n`),
  });
}

async function withBroker(target: BrokerTarget, name: string, fn: (broker: Broker) => Promise<void>): Promise<void> {
  const broker = await connect(target, { name });
  try {
    await fn(broker);
  } finally {
    await broker.close();
  }
}
