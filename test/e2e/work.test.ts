import { afterAll, describe, expect, test } from "bun:test";
import { brokerCounts, deleteQueues, drain, readyCount, trackedQueues, waitFor } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
const q = (label: string) => tracked.name(label);
const procs: TaskqProcess[] = [];
const worker = (args: string[], env: Record<string, string> = {}) => {
  const p = new TaskqProcess(["work", ...args], env);
  procs.push(p);
  return p;
};
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await tracked.deleteAll();
});

describe("taskq work", () => {
  test("without a command prints the tutorial's lines and acks every task", async () => {
    const queue = q("work-print");
    await runTaskq(["send", "-q", queue, "one", "two."]);
    const r = await runTaskq(["work", "-q", queue, "--max-tasks", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(" [x] Received 'one'\n [x] Done\n [x] Received 'two.'\n [x] Done\n");
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });
  });

  test("1. a task is acked only after the command exits 0", async () => {
    const queue = q("work-ack");
    const h = new TestHandler();
    const w = worker(["-q", queue, ...h.command]);
    await w.ready();
    await runTaskq(["send", "-q", queue, "block me"]);
    await waitFor(() => h.lines().length === 1, 10_000, "the handler to start");
    // The command is running: the broker holds the task as unacked.
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 1 });
    h.release();
    await waitFor(async () => (await brokerCounts(queue)).unacked === 0, 10_000, "the ack");
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });
    w.kill("SIGTERM");
    expect(await w.exited).toBe(0);
  });

  test("2. SIGKILL a worker mid-task: the other gets it with redelivered set; all tasks done", async () => {
    const queue = q("work-kill");
    const h = new TestHandler();
    const a = worker(["-q", queue, ...h.command], { WORKER: "A" });
    await a.ready();
    await runTaskq(["send", "-q", queue, "block first"]);
    await waitFor(() => h.lines().length === 1, 10_000, "A to start the task");
    const b = worker(["-q", queue, ...h.command], { WORKER: "B" });
    await b.ready();
    await runTaskq(["send", "-q", queue, "--count", "4", "quick {i}"]);
    h.release(); // from now on "block" tasks pass at once; A is killed before it notices
    a.kill("SIGKILL");
    await a.exited;
    await waitFor(
      () => h.lines().some((l) => l.worker === "B" && l.body === "block first"),
      10_000,
      "B to get the killed task",
    );
    const redelivered = h.lines().find((l) => l.worker === "B" && l.body === "block first");
    expect(redelivered?.redelivered).toBe(true);
    expect(redelivered?.attempt).toBe(2);
    await waitFor(async () => {
      const c = await brokerCounts(queue);
      return c.ready === 0 && c.unacked === 0;
    });
    const bodies = new Set(h.lines().map((l) => l.body));
    expect([...bodies].sort()).toEqual(["block first", "quick 1", "quick 2", "quick 3", "quick 4"]);
    b.kill("SIGTERM");
    expect(await b.exited).toBe(0);
  });

  test("4. fair dispatch: with prefetch 1 the short tasks all go to the free worker", async () => {
    const queue = q("work-fair");
    const h = new TestHandler();
    const a = worker(["-q", queue, "--prefetch", "1", ...h.command], { WORKER: "A" });
    const b = worker(["-q", queue, "--prefetch", "1", ...h.command], { WORKER: "B" });
    await Promise.all([a.ready(), b.ready()]);
    await runTaskq([
      "send",
      "-q",
      queue,
      "block long",
      "short 1",
      "short 2",
      "short 3",
      "short 4",
      "short 5",
      "short 6",
    ]);
    // The long task is held until every short one is done, whatever the timing.
    await waitFor(() => h.lines().filter((l) => l.body.startsWith("short")).length === 6, 15_000, "six short tasks");
    h.release();
    await waitFor(async () => (await brokerCounts(queue)).unacked === 0);
    const lines = h.lines();
    const longWorker = lines.find((l) => l.body === "block long")?.worker;
    expect(longWorker === "A" || longWorker === "B").toBe(true);
    const shortWorkers = new Set(lines.filter((l) => l.body.startsWith("short")).map((l) => l.worker));
    expect([...shortWorkers]).toEqual([longWorker === "A" ? "B" : "A"]);
    expect(lines).toHaveLength(7);
    a.kill("SIGTERM");
    b.kill("SIGTERM");
    expect([await a.exited, await b.exited]).toEqual([0, 0]);
  });

  test("5a. SIGINT mid-task finishes the task, acks it and exits 0", async () => {
    const queue = q("work-sigint");
    const h = new TestHandler();
    const w = worker(["-q", queue, "--prefetch", "3", ...h.command]);
    await w.ready();
    await runTaskq(["send", "-q", queue, "block one", "later 1", "later 2"]);
    await waitFor(() => h.lines().length === 1, 10_000, "the task to start");
    w.kill("SIGINT");
    await waitFor(() => /Stopping/.test(w.stderr), 5000, "the stopping line");
    expect(w.proc.exitCode).toBeNull(); // still finishing
    h.release();
    expect(await w.exited).toBe(0);
    // The running task was acked; the two prefetched but unstarted went back to the queue.
    expect(h.lines().map((l) => l.body)).toEqual(["block one"]);
    expect(await brokerCounts(queue)).toEqual({ ready: 2, unacked: 0 });
  });

  test("5b. a second SIGINT exits at once (130) and the broker keeps the task", async () => {
    const queue = q("work-sigint2");
    const h = new TestHandler();
    const w = worker(["-q", queue, ...h.command]);
    await w.ready();
    await runTaskq(["send", "-q", queue, "block forever"]);
    await waitFor(() => h.lines().length === 1, 10_000, "the task to start");
    w.kill("SIGINT");
    await waitFor(() => /Stopping/.test(w.stderr), 5000, "the stopping line");
    w.kill("SIGINT");
    expect(await w.exited).toBe(130);
    await waitFor(async () => (await readyCount(queue)) === 1, 10_000, "the task back in the queue");
  });

  test("5c. a failing command moves the task to <queue>.dead with its reason, then acks it", async () => {
    const queue = q("work-dead");
    const h = new TestHandler();
    await runTaskq(["send", "-q", queue, "fail hard", "fine"]);
    const r = await runTaskq(["work", "-q", queue, "--max-tasks", "2", "--max-attempts", "1", ...h.command]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("cannot do fail hard"); // the command's stderr passes through
    expect(r.stderr).toMatch(/failed: command exited with code 3; moved to '.*\.dead'/);
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });
    const dead = await drain(`${queue}.dead`);
    expect(dead).toHaveLength(1);
    const [d] = dead;
    expect(d?.content.toString()).toBe("fail hard");
    expect(d?.properties.deliveryMode).toBe(2);
    expect(d?.properties.messageId).toBe(h.lines()[0]?.id);
    expect(d?.properties.headers).toMatchObject({
      "x-taskq-reason": "command exited with code 3",
      "x-taskq-exit-code": 3,
      "x-taskq-original-queue": queue,
    });
    expect(typeof d?.properties.headers?.["x-taskq-worker-host"]).toBe("string");
    expect(Number.isNaN(Date.parse(String(d?.properties.headers?.["x-taskq-failed-at"])))).toBe(false);
  });

  test("--idle-exit stops a worker once the queue stays empty; --json prints one line per task", async () => {
    const queue = q("work-idle");
    await runTaskq(["send", "-q", queue, "--count", "3"]);
    const r = await runTaskq(["work", "-q", queue, "--idle-exit", "300ms", "--json"]);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatchObject({ outcome: "done", attempt: 1 });
  });

  test("--json --report-before-ack: SIGKILL the worker mid-stream; every task is either reported or still in the queue", async () => {
    const queue = q("work-rba");
    const TASKS = 2000;
    // 1 ms a task: the run takes over 2 s, so the kill lands mid-stream (zero-work tasks were all
    // done before the test had read 300 lines, once in a while).
    expect((await runTaskq(["send", "-q", queue, "--count", String(TASKS), "task {i} ."])).code).toBe(0);
    const w = worker(["-q", queue, "--prefetch", "100", "--json", "--report-before-ack", "--dot-ms", "1"]);
    await waitFor(() => w.stdout.split("\n").length > 300, 30_000, "300 lines");
    w.kill("SIGKILL");
    await w.exited;
    await waitFor(
      async () => (await brokerCounts(queue)).unacked === 0,
      15_000,
      "the killed worker's tasks back in the queue",
    );
    const reported = jsonLines<{ id: string; outcome: string }>(w.stdout);
    for (const line of reported) expect(line.outcome).toBe("done");
    const left = (await drain(queue)).map((m) => m.properties.messageId as string);
    // A task reported and then requeued (killed before its ack) is in both: never in neither.
    expect(new Set([...reported.map((l) => l.id), ...left]).size).toBe(TASKS);
    expect(reported.length).toBeLessThan(TASKS);
  }, 60_000);

  test("--concurrency runs several tasks at once in one process", async () => {
    const queue = q("work-conc");
    const h = new TestHandler();
    const w = worker(["-q", queue, "--concurrency", "3", ...h.command]);
    await w.ready();
    await runTaskq(["send", "-q", queue, "block 1", "block 2", "block 3"]);
    await waitFor(() => h.lines().length === 3, 10_000, "three tasks running together");
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 3 });
    h.release();
    await waitFor(async () => (await brokerCounts(queue)).unacked === 0);
    w.kill("SIGTERM");
    expect(await w.exited).toBe(0);
  });

  test("a queue deleted under a running worker: one line, exit 1", async () => {
    const queue = q("work-deleted");
    const w = worker(["-q", queue]);
    await w.ready();
    await deleteQueues([queue]);
    expect(await w.exited).toBe(1);
    expect(w.stderr.trim().split("\n").pop()).toBe(
      `taskq: the broker cancelled consuming from '${queue}' (was the queue deleted?)`,
    );
  });
});
