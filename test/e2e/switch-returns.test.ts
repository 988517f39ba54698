import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BROKER_URL, trackedQueues, uniqueQueue } from "../support/broker.ts";
import { IsolatedNode, type RabbitVersion, freePort } from "../support/node.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

// --prefetch auto on a quorum queue changes the prefetch by replacing the consumer, and the broker
// hands back the deliveries still on their way to the cancelled one: they come again marked
// redelivered, though no worker saw them (RabbitMQ 3.10.8: at the back of the queue, up to 15 s
// later here). On 3.10 and 4.0 nothing tells them from a dead worker's, so they count toward
// --max-redeliveries (failures/redeliveries.ts): each goes to the back with its count, none dies.
// From 4.3 they carry x-acquired-count alone (x-delivery-count counts failed deliveries): not counted.
const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const TASKS = 360;

interface SwitchRun {
  done: number;
  ids: number;
  cameBack: number;
  switches: number;
  dead: boolean;
  /** Tasks done at an attempt above 1: a return counted into the attempt. */
  retried: number;
}

/** TASKS tasks in blocks of zero-work and 60 ms ones, so the reserve comes and goes, and the consumer with it. */
async function switchRun(queue: string, url = BROKER_URL): Promise<SwitchRun> {
  const env = { TASKQ_URL: url };
  const bodies = Array.from({ length: TASKS }, (_, i) => `t${i}${Math.floor(i / 30) % 2 ? "......" : ""}`);
  expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", ...bodies], { env })).code).toBe(0);
  const worker = new TaskqProcess(
    [
      "work",
      "-q",
      queue,
      "--queue-type",
      "quorum",
      "--prefetch",
      "auto",
      "--dot-ms",
      "10",
      "--json",
      "-v",
      "--idle-exit",
      "2s",
    ],
    env,
  );
  expect(await worker.exited).toBe(0);
  const lines = jsonLines<{ id: string; outcome: string; attempt: number }>(worker.stdout);
  return {
    done: lines.filter((l) => l.outcome === "done").length,
    ids: new Set(lines.map((l) => l.id)).size,
    cameBack: (worker.stderr.match(/ came back /g) ?? []).length,
    switches: (worker.stderr.match(/ \[\.\] prefetch \d+/g) ?? []).length,
    dead: lines.some((l) => l.outcome === "dead"),
    retried: lines.filter((l) => l.attempt > 1).length,
  };
}

test("3.10: a switch's returns count as redeliveries, and cost nothing more than a copy: each task done once, none dead", async () => {
  const run = await switchRun(tracked.name("switch-returns"));
  expect(run).toMatchObject({ done: TASKS, ids: TASKS, dead: false });
  expect(run.switches).toBeGreaterThan(2);
  console.log(`switch returns on 3.10: ${run.cameBack} came back in ${run.switches} switches`);
}, 120_000);

describe.each<[RabbitVersion, number]>([
  ["4.3", 93],
  ["4.0", 94],
])("RabbitMQ %s (an isolated node)", (version, offset) => {
  const node = new IsolatedNode(`switch${version.replace(".", "")}`, freePort(offset), { version });
  beforeAll(() => node.start(), 240_000);
  afterAll(() => node.wipe(), 90_000);

  test("a switch's returns: from 4.3 told apart (x-acquired-count) and not counted; on 4.0 counted as on 3.10; each task done once, none dead", async () => {
    const run = await switchRun(uniqueQueue("switch-returns"), node.url);
    expect(run).toMatchObject({ done: TASKS, ids: TASKS, dead: false });
    expect(run.switches).toBeGreaterThan(2);
    if (version === "4.3") expect(run).toMatchObject({ cameBack: 0, retried: 0 });
    console.log(`switch returns on ${version}: ${run.cameBack} came back in ${run.switches} switches`);
  }, 120_000);
});
