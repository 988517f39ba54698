import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteQueues, drain, uniqueQueue } from "../support/broker.ts";
import { IsolatedNode } from "../support/node.ts";
import { versionBroker } from "../support/versions.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";
import { type WorkerEvent, send, work } from "../../src/index.ts";

// --prefetch auto changes the prefetch by replacing the consumer (worker/consumer.ts), on every
// queue type and version: no channel-wide basic.qos (a deprecated feature RabbitMQ 4.3 denies), and
// no delivery handed back by a cancel, so a switch costs no attempt.

const TASKS = 300;
/** Blocks of 30 zero-work tasks and 30 of 20 ms: the reserve comes and goes, and the consumer with it. */
const slow = (body: string) => Number(body.slice(1)) % 60 >= 30;

/**
 * Every task fails (max attempts 2) while auto switches: each must run exactly twice, its attempts
 * 1 then 2, and end in `.dead` after its second run.
 */
async function failingRun(url: string, queueType: "classic" | "quorum") {
  const queue = uniqueQueue(`switch-attempts-${queueType}`);
  try {
    return await failingRunOn(url, queue, queueType);
  } finally {
    await deleteQueues([queue, `${queue}.dead`, `${queue}.retry.10`], url);
  }
}

async function failingRunOn(url: string, queue: string, queueType: "classic" | "quorum") {
  const tasks = Array.from({ length: TASKS }, (_, i) => `t${i}`);
  await send({ url, queue, queueType, tasks });
  const runs = new Map<string, number[]>();
  let switches = 0;
  let dead = 0;
  const worker = await work(
    {
      url,
      queue,
      queueType,
      prefetch: "auto",
      concurrency: 2,
      idleExitMs: 3000,
      reportEveryMs: 0,
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      onEvent: (e: WorkerEvent) => {
        if (e.type === "prefetch") switches++;
        if (e.type === "finish" && e.settled === "dead") dead++;
      },
    },
    async (task) => {
      const body = task.body.toString();
      runs.set(body, [...(runs.get(body) ?? []), task.attempt]);
      if (slow(body)) await Bun.sleep(20);
      throw new Error("always fails");
    },
  );
  await worker.done;
  const wrong = [...runs].filter(([, attempts]) => attempts.join() !== "1,2");
  return { ran: runs.size, wrong: wrong.slice(0, 5), wrongCount: wrong.length, switches, dead };
}

describe("a switch costs no attempt: with max attempts 2 and a handler that always fails, every task runs exactly twice", () => {
  const broker = versionBroker("3.10");
  beforeAll(() => broker.up(), 240_000);
  test.each<["classic" | "quorum"]>([["quorum"], ["classic"]])(
    "RabbitMQ 3.10, a %s queue",
    async (type) => {
      const run = await failingRun(broker.url, type);
      expect(run.switches).toBeGreaterThan(2);
      expect(run).toMatchObject({ ran: TASKS, wrongCount: 0, dead: TASKS });
    },
    120_000,
  );
});

describe("RabbitMQ 4.3", () => {
  const node = versionBroker("4.3");
  beforeAll(() => node.up(), 240_000);

  test("a quorum queue: a switch costs no attempt", async () => {
    const run = await failingRun(node.url, "quorum");
    expect(run.switches).toBeGreaterThan(2);
    expect(run).toMatchObject({ ran: TASKS, wrongCount: 0, dead: TASKS });
  }, 120_000);

  test("a quorum queue: 10 stops mid-run leave no task flagged as returned", async () => {
    expect(await stoppedRuns(node.url, "quorum", 20, 10)).toEqual({ total: 4000, flagged: 0 });
  }, 120_000);
});

describe("RabbitMQ 4.3: work --prefetch auto on a classic queue uses no deprecated feature", () => {
  const node = new IsolatedNode("autodep43", 31030, { version: "4.3" });
  beforeAll(() => node.start(), 240_000);
  afterAll(() => node.wipe(), 90_000); // wiped in the test already, unless it failed first

  test("no 'Deprecated features' line in the node's log after a run with switches", async () => {
    const queue = uniqueQueue("auto-deprecated");
    const env = { TASKQ_URL: node.url };
    const bodies = Array.from({ length: 400 }, (_, i) => `t${i}${Math.floor(i / 50) % 2 ? "...." : ""}`);
    expect((await runTaskq(["send", "-q", queue, ...bodies], { env })).code).toBe(0);
    const worker = new TaskqProcess(
      ["work", "-q", queue, "--prefetch", "auto", "--dot-ms", "5", "-v", "--idle-exit", "2s"],
      env,
    );
    expect(await worker.exited).toBe(0);
    expect((worker.stderr.match(/ \[\.\] prefetch \d+/g) ?? []).length).toBeGreaterThan(1);
    const file = join(mkdtempSync(join(tmpdir(), "taskq-deprecated-")), "lines");
    // Its own file, as test/e2e/deprecated-check.test.ts: the suite's would fail the whole run.
    const wipe = Bun.spawn([join(import.meta.dir, "..", "..", "scripts", "broker"), "wipe", node.name], {
      env: { ...process.env, TASKQ_SUITE_DEPRECATED: file },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await wipe.exited).toBe(0);
    expect(existsSync(file) ? readFileSync(file, "utf8") : "").not.toContain("Deprecated features");
  }, 180_000);
});

/** Stops a worker `times` times in the middle of a fast run; what is left in the queue, and how many came back flagged. */
async function stoppedRuns(url: string, queueType: "classic" | "quorum", prefetch: number | "auto", times: number) {
  const queue = uniqueQueue(`stop-returns-${queueType}`);
  try {
    return await stoppedRunsOn(url, queue, queueType, prefetch, times);
  } finally {
    await deleteQueues([queue, `${queue}.dead`], url);
  }
}

async function stoppedRunsOn(
  url: string,
  queue: string,
  queueType: "classic" | "quorum",
  prefetch: number | "auto",
  times: number,
) {
  await send({ url, queue, queueType, tasks: Array.from({ length: 4000 }, (_, i) => `t${i}`) });
  let done = 0;
  for (let i = 0; i < times; i++) {
    let mine = 0;
    const worker = await work({ url, queue, queueType, prefetch, concurrency: 2, reportEveryMs: 0 }, async () => {
      if (++mine === 100) worker.stop();
    });
    done += (await worker.done).done;
  }
  const left = await drain(queue, url);
  const flagged = left.filter((m) => m.fields.redelivered || m.properties.headers?.["x-delivery-count"]).length;
  return { total: done + left.length, flagged };
}

describe("a stop's cancel gives nothing back to the queue (it waits until nothing is on its way to the consumer)", () => {
  const broker = versionBroker("3.10");
  beforeAll(() => broker.up(), 240_000);
  test.each<["classic" | "quorum", number | "auto"]>([
    ["quorum", 20],
    ["quorum", "auto"],
    ["classic", 20],
  ])(
    "RabbitMQ 3.10, a %s queue, prefetch %p: 10 stops mid-run, no task left flagged as returned",
    async (type, prefetch) => {
      const run = await stoppedRuns(broker.url, type, prefetch, 10);
      expect(run).toEqual({ total: 4000, flagged: 0 });
    },
    120_000,
  );
});
