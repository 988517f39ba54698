import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteQueues, drain, readyCount, uniqueQueue } from "../support/broker.ts";
import type { RabbitVersion } from "../support/node.ts";
import { versionBroker } from "../support/versions.ts";
import { jsonLines, runTaskq } from "../support/taskq.ts";

// A task whose command kills its worker (`kill -9 $PPID`: what the OOM killer does), and fresh
// workers one after the other, as a supervisor restarts them: the task ends in `.dead` with its
// reason after --max-redeliveries runs, never run again, never dropped (failures/redeliveries.ts).
// On 4.3, 4.0 and 3.10 (test/support/versions.ts).

/** Logs each run ("<body> <attempt> <redelivered>"); kills its worker on "boom", done otherwise. */
const KILLER = `b=$(cat); echo "$b $TASKQ_ATTEMPT $TASKQ_REDELIVERED" >> "$RUNS"; [ "$b" = boom ] && kill -9 $PPID; exit 0`;

const REASON = (n: number) =>
  `its worker died ${n} times in a row while running it (killed, out of memory, or cut off from the broker)`;

/** A broker to run the tests on: its URL and its rabbitmqctl. */
interface Target {
  url: () => string;
  ctl: (...args: string[]) => Promise<unknown>;
}

function crashLoopTests(target: Target): void {
  const queues: string[] = [];
  const q = (label: string) => {
    const name = uniqueQueue(label);
    queues.push(name, `${name}.dead`);
    return name;
  };
  afterAll(() => deleteQueues(queues, target.url()));
  const taskq = (args: string[], env: Record<string, string> = {}) =>
    runTaskq(args, { env: { TASKQ_URL: target.url(), ...env } });

  /** Fresh workers one after the other until one outlives the task (or `most` of them ran). */
  async function crashLoop(
    queue: string,
    args: string[],
    most: number,
  ): Promise<{ runs: string[]; workers: number; last: string }> {
    const log = join(mkdtempSync(join(tmpdir(), "taskq-redeliveries-")), "runs");
    let last = "";
    let workers = 0;
    while (workers < most) {
      workers++;
      const r = await taskq(["work", "-q", queue, "--idle-exit", "1s", ...args, "--", "sh", "-c", KILLER], {
        RUNS: log,
      });
      last = r.stderr; // the last one's: it moved the task to .dead
      if (r.code === 0) break; // it lived to go idle: the task is no longer in the queue
    }
    return { runs: existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [], workers, last };
  }

  test("classic, the default (5): five runs (attempts 1-5), then .dead with the reason; the tasks behind it are done; dead list says why", async () => {
    const queue = q("redeliver-classic");
    expect((await taskq(["send", "-q", queue, "boom", "ok 1", "ok 2"])).code).toBe(0);
    const loop = await crashLoop(queue, [], 12);
    // Before: every fresh worker ran it again at attempt 2, for ever (12 workers, 12 runs of boom).
    expect(loop.runs.filter((r) => r.startsWith("boom"))).toEqual([
      "boom 1 0",
      "boom 2 1",
      "boom 3 1",
      "boom 4 1",
      "boom 5 1",
    ]);
    expect(loop.runs.filter((r) => r.startsWith("ok")).sort()).toEqual(["ok 1 1 0", "ok 2 1 0"]);
    expect(loop.workers).toBe(6);
    expect(loop.last).toContain(`moved to '${queue}.dead' (it came back 5 times in a row: --max-redeliveries 5)`);
    expect(await readyCount(queue, target.url())).toBe(0);
    const listed = await taskq(["dead", "list", "-q", queue, "--json"]);
    expect(jsonLines(listed.stdout)).toMatchObject([
      { body: "boom", reason: REASON(5), attempts: 5, originalQueue: queue, exitCode: null, signal: null },
    ]);
    expect((await taskq(["dead", "list", "-q", queue])).stdout).toContain(REASON(5));
    const dead = await drain(`${queue}.dead`, target.url());
    expect(dead[0]?.properties.headers).toMatchObject({ "x-taskq-redeliveries": 5 });
  }, 90_000);

  test("--max-redeliveries 1: one run; the first worker to get it back moves it to .dead", async () => {
    const queue = q("redeliver-once");
    expect((await taskq(["send", "-q", queue, "boom"])).code).toBe(0);
    const loop = await crashLoop(queue, ["--max-redeliveries", "1"], 4);
    expect(loop).toMatchObject({ runs: ["boom 1 0"], workers: 2 });
    expect(loop.last).toContain("failed: its worker died once while running it");
    expect((await drain(`${queue}.dead`, target.url())).map((m) => m.properties.headers?.["x-taskq-attempts"])).toEqual(
      [1],
    );
  }, 60_000);

  test("quorum, the default (5): five runs, then .dead; 24 fresh workers never run it a sixth time", async () => {
    const queue = q("redeliver-quorum");
    expect((await taskq(["send", "-q", queue, "--queue-type", "quorum", "boom"])).code).toBe(0);
    const loop = await crashLoop(queue, ["--queue-type", "quorum"], 24);
    // Before: on 3.10.8 it ran at attempts 6, 7, 8... for ever; on 4.3.6 the broker dropped it after 21 runs.
    expect(loop.runs).toEqual(["boom 1 0", "boom 2 1", "boom 3 1", "boom 4 1", "boom 5 1"]);
    expect(loop.workers).toBe(6);
    expect(await readyCount(queue, target.url())).toBe(0);
    const dead = await drain(`${queue}.dead`, target.url());
    expect(dead.map((m) => m.content.toString())).toEqual(["boom"]);
    expect(dead[0]?.properties.headers).toMatchObject({
      "x-taskq-reason": REASON(5),
      "x-taskq-attempts": 5,
      "x-taskq-original-queue": queue,
    });
    expect(await crashLoop(queue, ["--queue-type", "quorum"], 1)).toMatchObject({ workers: 1, runs: [] }); // nothing left to run
  }, 120_000);

  test("quorum with the broker's own limit at 1 (a policy: RabbitMQ 4's 20, lowered): never dropped; taskq's limit ends it in .dead", async () => {
    const queue = q("redeliver-limited");
    const policy = `taskq-test-${queue}`;
    expect((await taskq(["send", "-q", queue, "--queue-type", "quorum", "boom"])).code).toBe(0);
    await target.ctl(
      "set_policy",
      policy,
      `^${queue.replaceAll(".", "\\.")}$`,
      '{"delivery-limit":1}',
      "--apply-to",
      "queues",
      "--priority",
      "100",
    );
    try {
      const loop = await crashLoop(queue, ["--queue-type", "quorum"], 10);
      // Before: the second return passed the limit and the broker dropped the task (no dead-letter target): 2 runs, gone.
      expect(loop.runs).toEqual(["boom 1 0", "boom 2 1", "boom 3 1", "boom 4 1", "boom 5 1"]);
      expect((await drain(`${queue}.dead`, target.url())).map((m) => m.properties.headers?.["x-taskq-reason"])).toEqual(
        [REASON(5)],
      );
    } finally {
      await target.ctl("clear_policy", policy);
    }
  }, 90_000);
}

describe.each<[RabbitVersion]>([["4.3"], ["4.0"], ["3.10"]])(
  "a task that kills its workers ends in .dead: RabbitMQ %s",
  (version) => {
    const broker = versionBroker(version);
    beforeAll(() => broker.up(), 240_000);
    crashLoopTests({ url: () => broker.url, ctl: broker.ctl });
  },
);
