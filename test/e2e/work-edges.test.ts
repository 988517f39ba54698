import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BROKER_PORT,
  brokerCounts,
  deleteQueues,
  drain,
  readyCount,
  trackedQueues,
  rabbitmqctlSync,
  waitFor,
  withChannel,
} from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { DropProxy } from "../support/proxy.ts";
import { TaskqProcess, jsonLines, missingSent, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const dir = mkdtempSync(join(tmpdir(), "taskq-edges-"));
function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${text}\n`);
  chmodSync(path, 0o755);
  return path;
}

interface JsonLine {
  id: string;
  outcome: string;
  attempt: number;
  error?: string;
}

/** A command that exits on SIGTERM after starting, in its own group, a process that ignores SIGTERM and writes its pid to `pidFile`. */
const stubbornScript = (name: string, pidFile: string) =>
  script(name, `cat >/dev/null\nsh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done' &\nsleep 30`);

/** Runs `fn` with a policy on `<queue>.dead` that caps it and nacks what does not fit (cleared after). */
async function withFullDeadQueue(queue: string, maxLength: number, fn: () => Promise<void>): Promise<void> {
  const policy = `taskq-test-${queue}`;
  const ctl = (...args: string[]) => rabbitmqctlSync(...args);
  const pattern = `^${queue.replace(/\./g, "\\.")}\\.dead$`;
  expect(
    ctl(
      "set_policy",
      policy,
      pattern,
      JSON.stringify({ "max-length": maxLength, overflow: "reject-publish" }),
      "--apply-to",
      "queues",
    ),
  ).toBe(0);
  try {
    await fn();
  } finally {
    ctl("clear_policy", policy);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("taskq work at the edges", () => {
  test("the dead queue deleted under a running worker: the copy fails once (said once), is tried again into a fresh dead queue; the command is not run again", async () => {
    const queue = tracked.name("edge-dead-gone");
    const handler = new TestHandler();
    const worker = new TaskqProcess(["work", "-q", queue, "--json", ...handler.command]);
    await worker.ready();
    expect((await runTaskq(["send", "-q", queue, "exit 65"])).code).toBe(0);
    await waitFor(
      () => jsonLines<JsonLine>(worker.stdout).some((l) => l.outcome === "dead"),
      15_000,
      "the first task dead",
    );
    await deleteQueues([`${queue}.dead`]);
    expect((await runTaskq(["send", "-q", queue, "exit 65"])).code).toBe(0);
    await waitFor(
      () => jsonLines<JsonLine>(worker.stdout).filter((l) => l.outcome === "dead").length === 2,
      15_000,
      "the second task dead",
    );
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(jsonLines<JsonLine>(worker.stdout).map((l) => l.outcome)).toEqual(["dead", "dead"]);
    // The copy was unroutable once (the queue was gone), said once, then went through: the command ran once per task.
    expect(worker.stderr.match(/its copy to '[^']+\.dead' failed \([^)]*unroutable/g)).toHaveLength(1);
    expect(handler.lines().length).toBe(2);
    expect((await drain(`${queue}.dead`)).length).toBe(1);
  }, 40_000);

  test.each(["classic", "quorum"])(
    "%s: tasks handed back unstarted by a drain keep their attempt (not counted as redelivered)",
    async (queueType) => {
      const queue = tracked.name(`edge-handback-${queueType}`);
      const h = new TestHandler();
      const common = ["-q", queue, "--queue-type", queueType];
      const first = new TaskqProcess(["work", ...common, "--prefetch", "3", ...h.command]);
      await first.ready();
      await runTaskq(["send", ...common, "block one", "later 1", "later 2"]);
      await waitFor(() => h.lines().length === 1, 10_000, "the first task to start");
      first.kill("SIGINT");
      await waitFor(() => /Stopping/.test(first.stderr), 5000, "the stopping line");
      h.release();
      expect(await first.exited).toBe(0);
      const second = await runTaskq(["work", ...common, "--max-tasks", "2", ...h.command]);
      expect(second.code).toBe(0);
      const later = h.lines().filter((l) => l.body.startsWith("later"));
      expect(later.map((l) => [l.body, l.attempt, l.redelivered]).sort()).toEqual([
        ["later 1", 1, false],
        ["later 2", 1, false],
      ]);
    },
    40_000,
  );

  test("--timeout: SIGKILL reaches the whole process group after --kill-after, even once the command itself has exited", async () => {
    const queue = tracked.name("edge-timeout-group", [100]);
    const pidFile = join(dir, "grandchild.pid");
    // The command exits on SIGTERM; what it started in the background ignores SIGTERM.
    const stubborn = stubbornScript("stubborn.sh", pidFile);
    await runTaskq(["send", "-q", queue, "hang"]);
    const worker = new TaskqProcess([
      "work",
      "-q",
      queue,
      "--json",
      "--max-attempts",
      "1",
      "--timeout",
      "300ms",
      "--kill-after",
      "300ms",
      "--",
      stubborn,
    ]);
    await waitFor(() => jsonLines<JsonLine>(worker.stdout).some((l) => l.outcome === "dead"), 15_000, "the task dead");
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    await waitFor(() => !alive(grandchild), 5000, "the background process killed");
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 30_000);

  test("--timeout: a worker that exits before --kill-after is up sends the group its SIGKILL as it exits", async () => {
    const queue = tracked.name("edge-timeout-exit", [100]);
    const pidFile = join(dir, "grandchild-exit.pid");
    const stubborn = stubbornScript("stubborn-exit.sh", pidFile);
    await runTaskq(["send", "-q", queue, "hang"]);
    const r = await runTaskq([
      "work",
      "-q",
      queue,
      "--max-tasks",
      "1",
      "--max-attempts",
      "1",
      "--timeout",
      "300ms",
      "--kill-after",
      "20s",
      "--",
      stubborn,
    ]);
    expect(r.code).toBe(0);
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    await waitFor(() => !alive(grandchild), 2000, "the background process killed when taskq exited");
  }, 30_000);

  test("a stop with more prefetched than started: every task is in the queue once (none handed back and redelivered too)", async () => {
    const queue = tracked.name("edge-maxtasks-prefetch");
    await runTaskq(["send", "-q", queue, "--count", "20", "task {i}"]);
    const r = await runTaskq(["work", "-q", queue, "--max-tasks", "1", "--prefetch", "10", "--json"]);
    expect(r.code).toBe(0);
    const left = await drain(queue);
    const bodies = left.map((m) => m.content.toString()).sort();
    expect(bodies.length).toBe(19);
    expect(new Set(bodies).size).toBe(19);
    expect(left.every((m) => !m.fields.redelivered)).toBe(true);
    // None lost: the one done and the 19 left are the 20 sent.
    const done = jsonLines<JsonLine>(r.stdout)
      .filter((l) => l.outcome === "done")
      .map((l) => l.id);
    expect(done).toHaveLength(1);
    expect(missingSent([...done, ...left.map((m) => String(m.properties.messageId))], 20)).toEqual([]);
  });

  test("a second Ctrl+C while prefetched tasks are being handed back (slow network): each is in the queue once", async () => {
    const queue = tracked.name("edge-handback-abort");
    const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 150);
    await proxy.start();
    let stdout = "";
    try {
      await runTaskq(["send", "-q", queue, "--count", "40", "task {i} ....."]);
      // 5 s a task: the first is still running at the second signal, which kills it (exit 130);
      // one that had finished would leave nothing to kill, and the exit would race the hand-back.
      const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "30", "--dot-ms", "1000", "--json"], {
        TASKQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      });
      await worker.ready();
      // One channel for the looks: a connection per look would take longer than the window below.
      await withChannel(async (ch) => {
        const ready = async () => (await ch.checkQueue(queue)).messageCount;
        // Prefetch filled: the broker has handed out 30 of the 40, and the proxy holds none of them back.
        await waitFor(
          async () => (await ready()) === 10 && proxy.held === 0,
          10_000,
          "30 tasks delivered to the worker",
          10,
        );
        worker.kill("SIGINT");
        // Hand-back copies reaching the queue (after the cancel's round trip); their confirms are
        // held by the proxy for 150 ms, and the second signal must land before they arrive.
        await waitFor(async () => (await ready()) > 10, 10_000, "the first hand-back copies in the queue", 5);
      });
      worker.kill("SIGINT");
      expect(await worker.exited).toBe(130);
      stdout = worker.stdout;
    } finally {
      proxy.stop();
    }
    // The broker requeues what the closed connection held.
    await waitFor(async () => (await brokerCounts(queue)).unacked === 0, 10_000, "nothing unacked");
    const drained = await drain(queue);
    const left = drained.map((m) => m.content.toString());
    expect(left.length).toBeGreaterThan(0);
    expect(new Set(left).size).toBe(left.length);
    // None lost either: each task reported done or back in the queue, not both.
    const done = jsonLines<JsonLine>(stdout)
      .filter((l) => l.outcome === "done")
      .map((l) => l.id);
    const back = drained.map((m) => String(m.properties.messageId));
    expect(done.filter((id) => back.includes(id))).toEqual([]);
    expect(missingSent([...done, ...back], 40)).toEqual([]);
  }, 40_000);

  test("a dead queue that refuses copies (max-length, reject-publish): refused copies are tried again, never the command; a stop gives their tasks back", async () => {
    const queue = tracked.name("edge-dead-full");
    const ran = join(mkdtempSync(join(tmpdir(), "taskq-ran-")), "ran");
    await withFullDeadQueue(queue, 2, async () => {
      const failing = script("slow-fail.sh", `cat >/dev/null\necho x >> ${ran}\nsleep 0.2\nexit 3`);
      await runTaskq(["send", "-q", queue, "--count", "4", "fail {i}"]);
      const worker = new TaskqProcess(["work", "-q", queue, "-c", "4", "--max-attempts", "1", "--json", "--", failing]);
      await waitFor(
        () =>
          jsonLines<JsonLine>(worker.stdout).filter((l) => l.outcome === "dead").length >= 2 &&
          (worker.stderr.match(/its copy to/g) ?? []).length >= 2,
        15_000,
        "2 dead and 2 copies refused",
      );
      await Bun.sleep(3000); // the refused copies are tried again meanwhile (backoff from 1 s): the commands must not run again
      expect(readFileSync(ran, "utf8").trim().split("\n")).toHaveLength(4);
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0); // within the stop's grace for refused copies
      expect(jsonLines<JsonLine>(worker.stdout).filter((l) => l.outcome === "requeued")).toHaveLength(2);
    });
    const dead = (await drain(`${queue}.dead`)).map((m) => m.content.toString());
    const back = (await drain(queue)).map((m) => m.content.toString());
    expect(dead.length).toBe(2);
    expect(back.length).toBe(2);
    expect([...dead, ...back].sort()).toEqual(["fail 1", "fail 2", "fail 3", "fail 4"]);
  }, 60_000);

  test("a flapping network (connections cut every 15 ms for a while, also while reconnecting): the worker ends up consuming again", async () => {
    const queue = tracked.name("edge-flap");
    const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 5);
    await proxy.start();
    try {
      const worker = new TaskqProcess(["work", "-q", queue, "--json"], {
        TASKQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      });
      await worker.ready();
      const until = Date.now() + 400;
      while (Date.now() < until) {
        proxy.drop();
        await Bun.sleep(15); // the flapping's pace, not a wait for something
      }
      await runTaskq(["send", "-q", queue, "--count", "50", "task {i}"]);
      await waitFor(
        () => jsonLines<JsonLine>(worker.stdout).length >= 50,
        20_000,
        "all 50 tasks done after the flapping",
      );
      expect(worker.stderr).toMatch(/reconnected/);
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      expect(jsonLines<JsonLine>(worker.stdout).filter((l) => l.outcome === "done").length).toBe(50);
    } finally {
      proxy.stop();
    }
  }, 40_000);

  test.each<[string, string[], (proc: TaskqProcess, queue: string) => boolean | Promise<boolean>]>([
    ["work", ["work", "--reconnect-timeout", "1s"], (proc) => /Waiting for tasks/.test(proc.stderr)],
    [
      "send",
      ["send", "--count", "200000", "--reconnect-timeout", "1s"],
      async (_proc, queue) => (await readyCount(queue).catch(() => 0)) > 0,
    ],
  ])(
    "%s: every new connection cut soon after it opens: --reconnect-timeout bounds the whole outage, exit 3",
    async (name, argv, working) => {
      const queue = tracked.name("edge-crashloop");
      const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 2);
      await proxy.start();
      let cutting = true;
      try {
        const started = Date.now();
        const proc = new TaskqProcess([...argv, "-q", queue], {
          TASKQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
        });
        // Cut once it works (consuming, or tasks arriving): an outage, not a first connect that fails.
        await waitFor(() => working(proc, queue), 10_000, `${name} working through the proxy`);
        void (async () => {
          while (cutting) {
            proxy.drop();
            await Bun.sleep(20); // the cutting's pace
          }
        })();
        const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "still running")]);
        if (code === "still running") proc.kill("SIGKILL");
        expect(code).toBe(3);
        expect(Date.now() - started).toBeLessThan(12_000);
        expect(proc.stderr).toMatch(/taskq: .*(no working connection|cannot reach|lost the connection)/);
        expect(proc.stdout).not.toMatch(/all confirmed/);
      } finally {
        cutting = false;
        proxy.stop();
      }
    },
    30_000,
  );

  test("a dead queue that nacks every copy while retry copies are in flight on the same channel: no task duplicated", async () => {
    const queue = tracked.name("edge-mixed-nack", [60_000, 120_000]);
    await withFullDeadQueue(queue, 0, async () => {
      // Alternate tasks on their last attempt (dead copy: nacked) and on their first (retry copy: fine).
      await withChannel(async (ch) => {
        await ch.assertQueue(queue, { durable: true });
        for (let i = 1; i <= 40; i++)
          ch.sendToQueue(queue, Buffer.from(`t${i}`), {
            persistent: true,
            messageId: `m${i}`,
            headers: { "x-taskq-attempt": i % 2 === 0 ? 5 : 1 },
          });
        await ch.checkQueue(queue); // behind the publishes on this channel: they are out
      });
      await waitFor(async () => (await readyCount(queue)) === 40, 10_000, "40 tasks in the queue");
      // -c 40: the 20 tasks whose dead copy is refused keep their slots (their copies are tried again, not the command).
      const worker = new TaskqProcess([
        "work",
        "-q",
        queue,
        "-c",
        "40",
        "--retry-delay",
        "60s",
        "--json",
        "--",
        "/bin/false",
      ]);
      await waitFor(
        () => jsonLines<JsonLine>(worker.stdout).filter((l) => l.outcome === "retry").length >= 20,
        15_000,
        "20 retry copies",
      );
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    });
    const bodies = [
      ...(await drain(queue)),
      ...(await drain(`${queue}.retry.60000`)),
      ...(await drain(`${queue}.dead`)),
    ].map((m) => m.content.toString());
    // Each of the 40 once: none duplicated, none lost.
    expect(bodies.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `t${i + 1}`).sort());
  }, 90_000);

  test("a second Ctrl+C kills the running command: its task is not a failure (no dead copy), the broker has it back", async () => {
    const queue = tracked.name("edge-abort-notdead");
    const h = new TestHandler();
    await runTaskq(["send", "-q", queue, "block forever"]);
    const worker = new TaskqProcess(["work", "-q", queue, "--max-attempts", "1", ...h.command]);
    await waitFor(() => h.lines().length === 1, 10_000, "the task to start");
    worker.kill("SIGINT");
    await waitFor(() => /Stopping/.test(worker.stderr), 5000, "the stopping line");
    worker.kill("SIGINT");
    expect(await worker.exited).toBe(130);
    await waitFor(async () => (await readyCount(queue)) === 1, 10_000, "the task back in the queue");
    const dead = await readyCount(`${queue}.dead`).catch(() => 0); // never declared: no dead copy either
    expect(dead).toBe(0);
  }, 30_000);

  test("--json: a command's own output goes to stderr; stdout holds only JSON lines", async () => {
    const queue = tracked.name("edge-json-out");
    const chatty = script("chatty.sh", "cat >/dev/null\nprintf 'progress 100%%'\necho ' and a line'");
    await runTaskq(["send", "-q", queue, "--count", "3"]);
    const r = await runTaskq(["work", "-q", queue, "--json", "--max-tasks", "3", "--", chatty]);
    expect(r.code).toBe(0);
    const lines = jsonLines<JsonLine>(r.stdout);
    expect(lines.map((l) => l.outcome)).toEqual(["done", "done", "done"]);
    expect(r.stderr).toContain("progress 100% and a line");
  });

  test("a second Ctrl+C right after a task finished: what stdout says matches the broker (an acked task's line is written; an unwritten one is back in the queue)", async () => {
    const queue = tracked.name("edge-second-signal");
    // First SIGINT at once (drain: the task is finished), the second just after it exits 0.
    // ($PPID is taskq, in the background subshell too.)
    const twice = script(
      "twice.sh",
      "cat >/dev/null\nkill -INT $PPID\nsleep 0.3\n(sleep 0.003; kill -INT $PPID) &\nexit 0",
    );
    await runTaskq(["send", "-q", queue, "once"]);
    const worker = new TaskqProcess(["work", "-q", queue, "--json", "--", twice]);
    const code = await worker.exited;
    expect([0, 130]).toContain(code);
    const outcomes = jsonLines<JsonLine>(worker.stdout).map((l) => l.outcome);
    // Settled before the second signal: acked and reported. Not yet: reported "lost" (it finished
    // after the second signal: not acked, as the process exits at once) or not at all, and the
    // broker has it back. (The command's output is read to its end, up to 200 ms after it exits.)
    if (outcomes[0] === "done") {
      expect(outcomes).toEqual(["done"]);
      expect(await readyCount(queue)).toBe(0);
    } else {
      expect(outcomes.filter((o) => o !== "lost")).toEqual([]);
      await waitFor(async () => (await readyCount(queue)) === 1, 10_000, "the unreported task back in the queue");
    }
  }, 30_000);

  test("--idle-exit shorter than connecting takes (a slow network): exits when idle, no error", async () => {
    const queue = tracked.name("edge-idle");
    const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 30);
    await proxy.start();
    try {
      const r = await runTaskq(["work", "-q", queue, "--idle-exit", "1ms"], {
        env: { TASKQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}` },
      });
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(/TypeError|internal error/);
    } finally {
      proxy.stop();
    }
  });
});
