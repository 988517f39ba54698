import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deleteQueues, uniqueQueue } from "../support/broker.ts";
import type { RabbitVersion } from "../support/node.ts";
import { versionBroker } from "../support/versions.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

// --prefetch auto changes the prefetch by replacing the consumer. A quorum queue hands back the
// deliveries still on their way to a cancelled consumer (marked redelivered, and on 3.10 and 4.0
// with x-delivery-count raised: as a dead worker's, so counted toward --max-redeliveries and the
// attempt). The worker cancels a consumer only when nothing can be on its way to it
// (worker/consumer.ts), so a switch hands nothing back, on 3.10, 4.0 and 4.3.
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
async function switchRun(queue: string, url: string): Promise<SwitchRun> {
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

describe.each<[RabbitVersion]>([["4.3"], ["4.0"], ["3.10"]])("RabbitMQ %s", (version) => {
  const broker = versionBroker(version);
  const queues: string[] = [];
  beforeAll(() => broker.up(), 240_000);
  afterAll(() => deleteQueues(queues, broker.url));

  test("a switch hands nothing back: each task done once, at attempt 1, none came back, none dead", async () => {
    const queue = uniqueQueue("switch-returns");
    queues.push(queue, `${queue}.dead`);
    const run = await switchRun(queue, broker.url);
    expect(run).toMatchObject({ done: TASKS, ids: TASKS, dead: false, cameBack: 0, retried: 0 });
    expect(run.switches).toBeGreaterThan(2);
    console.log(`switch returns on ${version}: ${run.cameBack} came back in ${run.switches} switches`);
  }, 120_000);
});
