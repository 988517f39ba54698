import type { FamilyQueue } from "../core/admin/family.ts";
import { findFamily } from "../core/admin/family.ts";
import { busyMembers, removeQueues } from "../core/admin/family-remove.ts";
import { managementClient } from "../core/admin/management.ts";
import { connect } from "../core/broker/reconnector.ts";
import { TaskqError } from "../errors.ts";
import { ask } from "./confirm.ts";
import type { RemovePlan } from "./remove-plan.ts";

const describe = (q: FamilyQueue): string => {
  const parts = [
    `${q.ready} ready`,
    ...(q.unacked ? [`${q.unacked} unacked`] : []),
    ...(q.held ? [`${q.held} held (not yet routed)`] : []),
    ...(q.consumers ? [`${q.consumers} consumer(s)`] : []),
  ];
  return `${q.name} (${parts.join(", ")})`;
};

export async function runRemove(plan: RemovePlan): Promise<void> {
  const broker = await connect(plan.target, { name: "taskq remove" });
  try {
    const management =
      plan.management === false
        ? undefined
        : managementClient(broker.address, {
            ...(plan.management ? { url: plan.management } : {}),
            ...(plan.target.tls?.ca ? { ca: plan.target.tls.ca } : {}),
          });
    const family = await findFamily(broker, plan.queue, { retry: plan.retry, ...(management ? { management } : {}) });
    if (!family.complete) {
      const why = family.missing ?? "--no-management";
      process.stderr.write(
        `taskq remove: without the management API (${why}), delay queues and retry levels other than --retry-delay/--retry-max-delay give cannot be listed and are left alone, and tasks a client holds unacked without a consumer (basic.get) or a quorum retry or delay queue holds unrouted are not seen: they go with their queue\n`,
      );
    }
    if (family.queues.length === 0)
      return console.log(`nothing to remove: no queue of '${plan.queue}''s family exists`);
    const busy = busyMembers(family.queues);
    const tasks = family.queues.reduce((n, q) => n + q.ready + (q.unacked ?? 0) + (q.held ?? 0), 0);
    const refusal = `'${plan.queue}''s family holds tasks or has consumers: ${busy.map(describe).join(", ")}; --force deletes them with their tasks`;
    if (plan.dryRun) {
      console.log(`dry run: ${plan.queue}'s family, ${family.queues.length} queue(s):`);
      for (const q of family.queues) console.log(`  ${describe(q)}`);
      console.log(
        busy.length > 0 && !plan.force
          ? `would refuse: ${refusal}`
          : `would delete ${family.queues.length} queue(s)${tasks > 0 ? ` and the ${tasks} task(s) in them` : ""}`,
      );
      return;
    }
    if (busy.length > 0 && !plan.force) throw new TaskqError(`refusing to remove: ${refusal}`);
    if (
      !plan.yes &&
      !(await ask(
        `delete ${family.queues.length} queue(s): ${family.queues.map((q) => q.name).join(", ")}${tasks > 0 ? ` and the ${tasks} task(s) in them` : ""}?`,
      ))
    ) {
      console.log("nothing removed");
      return;
    }
    const result = await removeQueues(broker, family.queues, plan.force);
    for (const d of result.deleted) console.log(`deleted '${d.name}'${d.tasks > 0 ? ` with ${d.tasks} task(s)` : ""}`);
    if (result.kept.length > 0)
      throw new TaskqError(`kept ${result.kept.map((k) => `'${k.name}' (${k.why})`).join(", ")}`);
  } finally {
    await broker.close();
  }
}
