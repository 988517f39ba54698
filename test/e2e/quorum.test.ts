import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  brokerCounts,
  deleteQueues,
  drain,
  rabbitmqctlRows,
  readyCount,
  uniqueQueue,
  waitFor,
  withChannel,
} from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
const q = (label: string, retryLevels: number[] = []) => {
  const name = uniqueQueue(label);
  queues.push(name, `${name}.dead`, ...retryLevels.map((l) => `${name}.retry.${l}`));
  return name;
};
const procs: TaskqProcess[] = [];
const worker = (args: string[], env: Record<string, string> = {}) => {
  const p = new TaskqProcess(["work", "--queue-type", "quorum", ...args], env);
  procs.push(p);
  return p;
};
/**
 * Note: for quorum queues `rabbitmqctl list_queues messages_ready` (brokerCounts) is refreshed only on the
 * queue's tick (every few seconds), so it can be stale right after a consume; the passive declare's message
 * count (readyCount) asks the leader and is exact. Once no consumer holds the queue, nothing can be unacked:
 * readyCount 0 after the workers exited means every task was acked.
 */
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await deleteQueues(queues);
});

/** The type of each queue as the broker lists it (`rabbitmqctl list_queues name type`). */
async function queueTypes(): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  for (const [name, type] of await rabbitmqctlRows("list_queues", ["name", "type"]))
    if (name && type) types.set(name, type);
  return types;
}

describe("--queue-type quorum (shared broker)", () => {
  test("send declares a quorum queue; work consumes it and acks", async () => {
    const queue = q("qq-basic");
    const h = new TestHandler();
    const sent = await runTaskq(["send", "-q", queue, "--queue-type", "quorum", "one", "two"]);
    expect(sent.code).toBe(0);
    expect((await queueTypes()).get(queue)).toBe("quorum");
    // A declare with x-queue-type quorum is equivalent: no 406.
    await withChannel(async (ch) => {
      const ok = await ch.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
      expect(ok.messageCount).toBe(2);
    });
    const r = await runTaskq(["work", "-q", queue, "--queue-type", "quorum", "--max-tasks", "2", ...h.command]);
    expect(r.code).toBe(0);
    expect(h.lines().map((l) => [l.body, l.attempt, l.redelivered])).toEqual([
      ["one", 1, false],
      ["two", 1, false],
    ]);
    expect(await readyCount(queue)).toBe(0); // the worker is gone: an unacked task would be ready again
  }, 30_000);

  test("a failing task is retried once, then dead in a quorum <queue>.dead (TASKQ_ATTEMPT 1, 2)", async () => {
    const queue = q("qq-retry", [100]);
    const h = new TestHandler();
    expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", "fail x"])).code).toBe(0);
    const r = await runTaskq([
      "work",
      "-q",
      queue,
      "--queue-type",
      "quorum",
      "--max-attempts",
      "2",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      ...h.command,
    ]);
    expect(r.code).toBe(0);
    const lines = h.lines();
    expect(lines.map((l) => l.attempt)).toEqual([1, 2]);
    expect(new Set(lines.map((l) => l.id)).size).toBe(1);
    expect(r.stderr).toMatch(/attempt 1 failed, retry in \d+ms/);
    expect(r.stderr).toMatch(/moved to '.*\.dead' \(failed 2 attempt\(s\) of 2\)/);
    const types = await queueTypes();
    expect(types.get(`${queue}.dead`)).toBe("quorum");
    expect(types.get(`${queue}.retry.100`)).toBe("quorum");
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.content.toString())).toEqual(["fail x"]);
    expect(dead[0]?.properties.headers).toMatchObject({
      "x-taskq-reason": "command exited with code 3",
      "x-taskq-attempts": 2,
      "x-taskq-exit-code": 3,
    });
    expect(await readyCount(queue)).toBe(0);
    expect(await readyCount(`${queue}.retry.100`)).toBe(0);
  }, 30_000);

  test("SIGKILL a worker mid-task: the other gets it redelivered, TASKQ_ATTEMPT 2 (x-delivery-count)", async () => {
    const queue = q("qq-kill");
    const h = new TestHandler();
    const a = worker(["-q", queue, ...h.command], { WORKER: "A" });
    await a.ready();
    expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", "block first"])).code).toBe(0);
    await waitFor(() => h.lines().length === 1, 10_000, "A to start the task");
    const b = worker(["-q", queue, ...h.command], { WORKER: "B" });
    await b.ready();
    h.release(); // "block" passes at once from now on; A dies before it notices
    a.kill("SIGKILL");
    await a.exited;
    await waitFor(() => h.lines().find((l) => l.worker === "B"), 10_000, "B to get the killed task");
    expect(h.lines().map((l) => [l.worker, l.body, l.redelivered, l.attempt])).toEqual([
      ["A", "block first", false, 1],
      ["B", "block first", true, 2],
    ]);
    expect(new Set(h.lines().map((l) => l.id)).size).toBe(1);
    b.kill("SIGTERM"); // B finishes and acks what it runs, then exits
    expect(await b.exited).toBe(0);
    expect(await readyCount(queue)).toBe(0);
    expect(h.lines()).toHaveLength(2); // nobody ran it a third time
  }, 30_000);

  test("a redelivered task that then fails counts on: attempt 1 (killed), 2 (fails), 3 (retry), then dead", async () => {
    // The retry copy must not carry the broker's x-delivery-count into the next round, or a redelivery is counted twice.
    const queue = q("qq-kill-fail", [100, 200]);
    const h = new TestHandler();
    const a = worker(["-q", queue, ...h.command], { WORKER: "A" });
    await a.ready();
    expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", "block, then fail"])).code).toBe(0);
    await waitFor(() => h.lines().length === 1, 10_000, "A to start the task");
    a.kill("SIGKILL");
    h.release(); // A's orphaned handler (own process group, holding A's output pipes) may end now
    await a.exited;
    const log = join(h.dir, "b.log");
    const script = `cat >/dev/null; echo "$TASKQ_REDELIVERED $TASKQ_ATTEMPT" >> '${log}'; exit 3`;
    const r = await runTaskq([
      "work",
      "--queue-type",
      "quorum",
      "-q",
      queue,
      "--max-attempts",
      "3",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      "--",
      "sh",
      "-c",
      script,
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["1 2", "0 3"]);
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.properties.headers?.["x-taskq-attempts"])).toEqual([3]);
  }, 30_000);

  test("a queue that exists as classic: --queue-type quorum uses it as classic, said once (no 406), and the reverse", async () => {
    const classic = q("qq-406-classic");
    expect((await runTaskq(["send", "-q", classic, "x"])).code).toBe(0);
    for (const args of [
      ["send", "-q", classic, "--queue-type", "quorum", "y"],
      ["work", "-q", classic, "--queue-type", "quorum", "--max-tasks", "1"],
    ]) {
      const r = await runTaskq(args);
      expect(r.code).toBe(0);
      expect(r.stderr.match(/is a classic queue: using it as classic/g)).toHaveLength(1);
    }
    expect(await brokerCounts(classic)).toEqual({ ready: 1, unacked: 0 }); // "x" and "y" sent, one taken and acked
    expect((await queueTypes()).get(classic)).toBe("classic");

    const quorum = q("qq-406-quorum");
    expect((await runTaskq(["send", "-q", quorum, "--queue-type", "quorum", "x"])).code).toBe(0);
    const r = await runTaskq(["send", "-q", quorum, "y"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `'${quorum}' is a quorum queue: using it as quorum (pass --queue-type quorum to say so)`,
    );
    expect((await queueTypes()).get(quorum)).toBe("quorum");
  }, 60_000); // five taskq runs and two rabbitmqctl calls (on a 4.3 node: in its root, seconds each on a loaded machine)

  test("dead list and dead requeue work on quorum queues", async () => {
    const queue = q("qq-dead");
    expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", "exit 65"])).code).toBe(0);
    const h = new TestHandler();
    expect(
      (await runTaskq(["work", "-q", queue, "--queue-type", "quorum", "--max-tasks", "1", ...h.command])).code,
    ).toBe(0);
    const list = await runTaskq(["dead", "list", "-q", queue, "--json"]);
    expect(list.code).toBe(0);
    expect(jsonLines(list.stdout).map((l) => l.body)).toEqual(["exit 65"]);
    const requeue = await runTaskq(["dead", "requeue", "-q", queue]);
    expect(requeue.stderr).toBe("");
    expect(requeue.code).toBe(0);
    expect(requeue.stdout).toContain("moved 1 task(s)");
    // Back with fresh attempts: no stale x-delivery-count from the listing's hand-back either.
    const h2 = new TestHandler();
    expect(
      (await runTaskq(["work", "-q", queue, "--queue-type", "quorum", "--max-tasks", "1", ...h2.command])).code,
    ).toBe(0);
    expect(h2.lines().map((l) => [l.body, l.redelivered, l.attempt])).toEqual([["exit 65", false, 1]]);
    expect(await readyCount(queue)).toBe(0);
    expect(await readyCount(`${queue}.dead`)).toBe(1); // dead again (exit 65)
  }, 30_000);

  test("--max-tasks N leaves the next task undelivered: the next worker sees it fresh (attempt 1)", async () => {
    for (const type of ["classic", "quorum"]) {
      for (let round = 0; round < 3; round++) {
        const queue = q(`qq-max-tasks-${type}`);
        const t = ["--queue-type", type];
        expect((await runTaskq(["send", "-q", queue, ...t, "one", "two", "three", "four"])).code).toBe(0);
        expect(
          (await runTaskq(["work", "-q", queue, ...t, "--max-tasks", "1", "--", "sh", "-c", "cat >/dev/null"])).code,
        ).toBe(0);
        expect((await runTaskq(["work", "-q", queue, ...t, "--max-tasks", "2"])).code).toBe(0);
        const h = new TestHandler();
        expect((await runTaskq(["work", "-q", queue, ...t, "--max-tasks", "1", ...h.command])).code).toBe(0);
        expect(h.lines().map((l) => [type, l.body, l.redelivered, l.attempt])).toEqual([[type, "four", false, 1]]);
      }
    }
  }, 60_000);
});
