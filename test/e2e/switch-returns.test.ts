import { afterAll, expect, test } from "bun:test";
import { BROKER_URL, trackedQueues } from "../support/broker.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

// --prefetch auto on a quorum queue changes the prefetch by replacing the consumer, and the broker
// hands back the deliveries still on their way to the cancelled one: they come again marked
// redelivered, though no worker saw them (RabbitMQ 3.10.8: at the back of the queue, up to 15 s
// later here). Before 4.3 nothing tells them from a dead worker's, so they count toward
// --max-redeliveries (failures/redeliveries.ts): each goes to the back with its count, none dies.
const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

interface SwitchRun {
  done: number;
  ids: number;
  cameBack: number;
  switches: number;
  dead: boolean;
}

/** 600 tasks in blocks of zero-work and 60 ms ones, so the reserve comes and goes, and the consumer with it. */
async function switchRun(queue: string, url = BROKER_URL): Promise<SwitchRun> {
  const env = { TASKQ_URL: url };
  const bodies = Array.from({ length: 600 }, (_, i) => `t${i}${Math.floor(i / 30) % 2 ? "......" : ""}`);
  expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", ...bodies], { env })).code).toBe(0);
  const worker = new TaskqProcess(["work", "-q", queue, "--queue-type", "quorum", "--prefetch", "auto", "--dot-ms", "10", "--json", "-v", "--idle-exit", "2s"], env);
  expect(await worker.exited).toBe(0);
  const lines = jsonLines<{ id: string; outcome: string }>(worker.stdout);
  return {
    done: lines.filter((l) => l.outcome === "done").length,
    ids: new Set(lines.map((l) => l.id)).size,
    cameBack: (worker.stderr.match(/ came back /g) ?? []).length,
    switches: (worker.stderr.match(/ \[\.\] prefetch \d+/g) ?? []).length,
    dead: lines.some((l) => l.outcome === "dead"),
  };
}

test("3.10: a switch's returns count as redeliveries, and cost nothing more than a copy: each task done once, none dead", async () => {
  const run = await switchRun(tracked.name("switch-returns"));
  expect(run).toMatchObject({ done: 600, ids: 600, dead: false });
  expect(run.switches).toBeGreaterThan(2);
  console.log(`switch returns on 3.10: ${run.cameBack} came back in ${run.switches} switches`);
}, 120_000);
