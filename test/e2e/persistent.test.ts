import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROKER_URL, drain, readyCount, trackedQueues, waitFor, withChannel } from "../support/broker.ts";
import { TASKQ_BIN, TaskqProcess, jsonLines, oneLineError, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** The interpreter itself where it is there: a pyenv shim would add its own start to every process. */
const PY = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const dir = mkdtempSync(join(tmpdir(), "taskq-persistent-"));
/** A persistent handler steered by each task's body; it logs every task (and its input's end) to $PLOG. */
const HANDLER = join(dir, "handler.py");
writeFileSync(
  HANDLER,
  `import base64, json, os, subprocess, sys, time
log = open(os.environ["PLOG"], "a", buffering=1)
mode = os.environ.get("PMODE", "")
if mode == "silent": log.write(json.dumps({"pid": os.getpid(), "boot": True}) + "\\n"); time.sleep(60)
if mode == "flaky" and os.path.exists(os.environ["PLOG"] + ".started"): print("cannot start", file=sys.stderr); sys.exit(7)
if mode == "slowrestart": log.write(json.dumps({"pid": os.getpid(), "boot": True}) + "\\n")
if mode == "slowrestart" and os.path.exists(os.environ["PLOG"] + ".started"): time.sleep(60)
open(os.environ["PLOG"] + ".started", "w").close()
print("taskq-handler 1", flush=True)
for line in sys.stdin:
    t = json.loads(line); body = base64.b64decode(t["body"]); cmd = body.decode("latin-1")
    def answer(o, r="", seq=t.get("seq")): print(json.dumps({"seq": seq, "outcome": o, "reason": r}), flush=True)
    log.write(json.dumps({"pid": os.getpid(), "seq": t.get("seq"), "slot": os.environ["TASKQ_SLOT"], "id": t["id"], "attempt": t["attempt"], "hex": body.hex(), "headers": t["headers"], "pgid": os.getpgid(0), "sid": os.getsid(0)}) + "\\n")
    if cmd == "crash": print("about to crash", file=sys.stderr, flush=True); os._exit(3)
    elif cmd == "holdout": log.write(json.dumps({"pid": os.getpid(), "child": subprocess.Popen(["sleep", "120"]).pid}) + "\\n"); os._exit(3)
    elif cmd == "garbage": print("hello world", flush=True)
    elif cmd.startswith("sleep "): time.sleep(float(cmd[6:])); answer("done")
    elif cmd.startswith("fail "): print("oops on stderr", file=sys.stderr, flush=True); answer("failed", cmd[5:])
    elif cmd.startswith("dead "): answer("dead", cmd[5:])
    elif cmd.startswith("bigfail "): answer("failed", "x" * int(cmd[8:]))
    elif cmd.startswith("later "): answer("later", cmd[6:])
    elif cmd.startswith("twice "): time.sleep(float(cmd[6:])); answer("done"); time.sleep(0.1); answer("done")
    else: answer("done")
    if mode == "oneshot": os._exit(0)  # a process per task: answers one, then says goodbye
log.write(json.dumps({"pid": os.getpid(), "eof": True}) + "\\n")
`,
);

/** The same log, as a command run once per task (body on stdin). */
const ONCE = join(dir, "once.py");
writeFileSync(
  ONCE,
  `import json, os, sys
body = sys.stdin.buffer.read()
open(os.environ["PLOG"], "a").write(json.dumps({"pid": os.getpid(), "hex": body.hex()}) + "\\n")
`,
);

interface Logged {
  pid: number;
  boot?: boolean;
  child?: number;
  seq?: number | null;
  slot?: string;
  id?: string | null;
  attempt?: number;
  hex?: string;
  headers?: Record<string, unknown>;
  eof?: boolean;
  pgid?: number;
  sid?: number;
}
interface JsonLine {
  id: string;
  outcome: string;
  attempt: number;
  reason?: string;
}

let logs = 0;
/** A fresh log file and the env that points the handler at it. */
function handlerLog(mode = ""): { env: Record<string, string>; read: () => Logged[] } {
  const path = join(dir, `log-${++logs}.jsonl`);
  return {
    env: { PLOG: path, PMODE: mode },
    read: () =>
      existsSync(path)
        ? readFileSync(path, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Logged)
        : [],
  };
}

const send = async (queue: string, ...bodies: string[]) =>
  expect((await runTaskq(["send", "-q", queue, ...bodies])).code).toBe(0);
const work = (queue: string, env: Record<string, string>, ...flags: string[]) =>
  new TaskqProcess(["work", "-q", queue, "--json", "--persistent", ...flags, "--", PY, HANDLER], env);
const pids = (entries: Logged[]) => [...new Set(entries.filter((e) => !e.eof).map((e) => e.pid))];
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("taskq work --persistent", () => {
  test("one process per slot runs every task; binary bodies, headers and the attempt reach it intact", async () => {
    const queue = tracked.name("persist-binary");
    const log = handlerLog();
    const worker = work(queue, log.env, "-c", "2", "--max-tasks", "6");
    await worker.ready();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await withChannel(async (ch) => {
      for (let i = 0; i < 6; i++)
        ch.sendToQueue(queue, Buffer.concat([bytes, Buffer.from([i])]), { headers: { "x-user": `u${i}` } });
      await ch.checkQueue(queue); // a round trip: the publishes before it have reached the queue
    });
    expect(await worker.exited).toBe(0);
    const tasks = log.read().filter((e) => !e.eof);
    expect(tasks).toHaveLength(6);
    for (const t of tasks) {
      const last = Number.parseInt(t.hex?.slice(-2) ?? "", 16);
      expect(t.hex).toBe(Buffer.concat([bytes, Buffer.from([last])]).toString("hex"));
      expect(t.headers?.["x-user"]).toBe(`u${last}`);
      expect(t.attempt).toBe(1);
      // A process group of its own (a Ctrl+C to taskq's group misses it), in taskq's session (not a new one).
      expect(t.pgid).toBe(t.pid);
      expect(t.sid).not.toBe(t.pid);
    }
    expect(pids(tasks).length).toBeLessThanOrEqual(2); // no process per task
    expect(new Set(tasks.map((t) => t.slot)).size).toBeLessThanOrEqual(2);
    // Done: stdin closed, every process saw its input end and exited.
    await waitFor(() => log.read().filter((e) => e.eof).length === pids(tasks).length, 5000, "eof");
    for (const pid of pids(tasks)) expect(alive(pid)).toBe(false);
  });

  test("answers: failed is retried with its stderr tail, dead goes to .dead at once (exit 65), later spends no attempt", async () => {
    const queue = tracked.name("persist-answers", [100, 200]);
    const log = handlerLog();
    await send(queue, "fail first", "dead no hope", "later busy");
    const worker = work(
      queue,
      log.env,
      "--max-tasks",
      "4",
      "--max-attempts",
      "2",
      "--retry-delay",
      "100ms",
      "--max-deferrals",
      "0",
    );
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines.find((l) => l.reason === "first" && l.attempt === 1)?.outcome).toBe("retry");
    expect(lines.find((l) => l.reason === "first" && l.attempt === 2)?.outcome).toBe("dead");
    expect(lines.find((l) => l.reason === "no hope")?.outcome).toBe("dead");
    expect(lines.find((l) => l.reason === "busy")?.outcome).toBe("dead"); // --max-deferrals 0: the first "later" is too many
    const dead = await drain(`${queue}.dead`);
    const texts = dead.map((m) => JSON.stringify(m.properties.headers));
    expect(texts.find((t) => t.includes("no hope"))).toContain("65");
    expect(texts.find((t) => t.includes("first"))).toContain("oops on stderr");
    expect(pids(log.read())).toHaveLength(1);
  });

  test("a process that exits mid-task fails that task naming the exit, with its stderr; a fresh process runs the next", async () => {
    const queue = tracked.name("persist-crash");
    const log = handlerLog();
    await send(queue, "crash", "ok");
    const worker = work(queue, log.env, "--max-tasks", "2", "--max-attempts", "1", "-v");
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines[0]?.outcome).toBe("dead");
    expect(lines[0]?.reason).toBe("handler ended (exit code 3) while running the task");
    expect(worker.stderr).toMatch(/ \[-\] task \S+ attempt 1: done in /); // -v, as with a command per task
    expect(lines[1]?.outcome).toBe("done");
    expect(pids(log.read())).toHaveLength(2);
    const [dead] = await drain(`${queue}.dead`);
    expect(JSON.stringify(dead?.properties.headers)).toContain("about to crash");
  });

  test("a task that kills every handler it reaches ends in .dead after its attempts; the worker goes on (not a failed start)", async () => {
    const queue = tracked.name("persist-poison", [100]);
    const log = handlerLog();
    await send(queue, "crash", "ok");
    const flags = ["--idle-exit", "3s", "--max-attempts", "7", "--retry-delay", "100ms", "--retry-max-delay", "100ms"];
    const worker = work(queue, log.env, ...flags);
    // Before: six crashes in a row after "ok" counted as failed starts, and the fifth stopped the worker (exit 1).
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines.filter((l) => l.outcome === "done")).toHaveLength(1);
    expect(lines.filter((l) => l.outcome === "dead").map((l) => l.reason)).toEqual([
      "handler ended (exit code 3) while running the task",
    ]);
    expect(worker.stderr).not.toContain("failed to start");
    const [dead] = await drain(`${queue}.dead`);
    expect(dead?.content.toString()).toBe("crash");
    expect(pids(log.read()).length).toBeGreaterThanOrEqual(7); // one fresh process after each of its 7 crashes
  }, 40_000);

  test("an answer belongs to the task whose seq it echoes: a second answer to task 1 fails task 2 (not acked while it runs)", async () => {
    const queue = tracked.name("persist-seq");
    const log = handlerLog();
    await send(queue, "twice 0", "sleep 2", "ok");
    const worker = work(queue, log.env, "--max-tasks", "3", "--max-attempts", "1");
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines.map((l) => [l.outcome, l.reason])).toEqual([
      ["done", undefined],
      [
        "dead",
        'handler answered "{\\"seq\\": 1, \\"outcome\\": \\"done\\", \\"reason\\": \\"\\"}": "seq" must be 2, the seq of the task it answers',
      ],
      ["done", undefined],
    ]);
    const entries = log.read();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 1]); // each process counts its own tasks
    expect(pids(entries)).toHaveLength(2); // the one that broke the protocol was replaced
  });

  test("a handler's end is its exit: a child it started that still holds its stdout neither holds the task nor outlives it", async () => {
    const queue = tracked.name("persist-holdout");
    const log = handlerLog();
    await send(queue, "holdout", "ok");
    const worker = work(queue, log.env, "--max-tasks", "2", "--max-attempts", "1");
    try {
      // Without the fix the task waits for the child (sleep 120): the test's own timeout fails it.
      expect(await worker.exited).toBe(0);
      const lines = jsonLines<JsonLine>(worker.stdout);
      expect(lines.map((l) => [l.outcome, l.reason])).toEqual([
        ["dead", "handler ended (exit code 3) while running the task"],
        ["done", undefined],
      ]);
      const child = log.read().find((e) => e.child !== undefined)?.child ?? 0;
      expect(child).toBeGreaterThan(0);
      await waitFor(() => !alive(child), 3000, "the child killed with the handler's group");
    } finally {
      for (const e of log.read()) if (e.child !== undefined && alive(e.child)) process.kill(e.child, "SIGKILL");
    }
  }, 30_000);

  test("a line that is not the protocol fails the task quoting it, and the process is replaced", async () => {
    const queue = tracked.name("persist-garbage");
    const log = handlerLog();
    await send(queue, "garbage", "ok");
    const worker = work(queue, log.env, "--max-tasks", "2", "--max-attempts", "1");
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines[0]?.outcome).toBe("dead");
    expect(lines[0]?.reason).toBe('handler wrote a line that is not the protocol: "hello world"');
    expect(lines[1]?.outcome).toBe("done");
    const [first, second] = pids(log.read());
    expect(second).not.toBe(first);
    expect(alive(first ?? 0)).toBe(false);
  });

  test("a failed answer over 64 KB fails the task quoting its start, the reason's start with it", async () => {
    const queue = tracked.name("persist-bigfail");
    const log = handlerLog();
    await send(queue, "bigfail 70000", "bigfail 60000");
    const worker = work(queue, log.env, "--max-tasks", "2", "--max-attempts", "1");
    expect(await worker.exited).toBe(0);
    const [big, under] = jsonLines<JsonLine>(worker.stdout);
    const start = '{"seq": 1, "outcome": "failed", "reason": "'; // the line as Python's json.dumps writes it
    expect(big?.reason).toBe(
      `handler wrote a line too long to be an answer (over 64 KB): ${JSON.stringify(`${start}${"x".repeat(200 - start.length)}...`)}`,
    );
    expect(under?.reason).toBe("x".repeat(60000)); // under the limit: the whole reason
  });

  test("--timeout kills the process, fails the task 'timed out', and a fresh process runs the next", async () => {
    const queue = tracked.name("persist-timeout");
    const log = handlerLog();
    await send(queue, "sleep 30", "ok");
    const worker = work(queue, log.env, "--max-tasks", "2", "--max-attempts", "1", "--timeout", "1s");
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines[0]?.reason).toBe("timed out after 1s (killed by SIGTERM)");
    expect(lines[1]?.outcome).toBe("done");
    expect(pids(log.read())).toHaveLength(2);
  });

  test("--max-tasks-per-process recycles the process: its input ends after N tasks", async () => {
    const queue = tracked.name("persist-recycle");
    const log = handlerLog();
    await send(queue, "a", "b", "c", "d", "e");
    const worker = work(queue, log.env, "--max-tasks", "5", "--max-tasks-per-process", "2");
    expect(await worker.exited).toBe(0);
    expect(jsonLines<JsonLine>(worker.stdout).filter((l) => l.outcome === "done")).toHaveLength(5);
    const entries = log.read();
    expect(pids(entries)).toHaveLength(3);
    // Each recycled process was asked to end (its input closed), not killed.
    await waitFor(() => log.read().filter((e) => e.eof).length === 3, 5000, "three ends of input");
  });

  test("first signal: the task in flight finishes, stdin closes, the process exits; second: all killed", async () => {
    const queue = tracked.name("persist-signals");
    const log = handlerLog();
    const worker = work(queue, log.env, "--report-every", "200ms");
    await worker.ready();
    await send(queue, "sleep 6");
    await waitFor(() => log.read().length === 1, 10_000, "the task to start");
    // status --workers sees the task running, as with a command per task.
    const seen = await waitFor(
      async () => {
        const status = await runTaskq(["status", "-q", queue, "--no-management", "--workers", "--json"]);
        const doc = JSON.parse(status.stdout) as { workers: Array<{ pid: number; tasks: unknown[] }> };
        return doc.workers.some((w) => w.tasks.length === 1) ? doc.workers : undefined;
      },
      4000,
      "status --workers to show the task",
    );
    expect(seen.map((w) => [w.pid, w.tasks.length])).toEqual([[worker.pid, 1]]);
    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(jsonLines<JsonLine>(worker.stdout).map((l) => l.outcome)).toEqual(["done"]);
    expect(log.read().at(-1)?.eof).toBe(true);

    const log2 = handlerLog();
    const second = work(queue, log2.env);
    await second.ready();
    await send(queue, "sleep 30");
    await waitFor(() => log2.read().length === 1, 10_000, "the task to start");
    const pid = log2.read()[0]?.pid ?? 0;
    second.kill("SIGTERM");
    await Bun.sleep(200);
    second.kill("SIGTERM");
    expect(await second.exited).toBe(130);
    await waitFor(() => !alive(pid), 3000, "the handler to be killed");
    expect(await readyCount(queue)).toBe(1); // unacked: back in the queue
  });

  test("a drain is bounded by --kill-after: a replacement process still before its handshake is killed, not waited for", async () => {
    const queue = tracked.name("persist-slowrestart");
    const log = handlerLog("slowrestart");
    const flags = ["--kill-after", "1s", "--max-attempts", "1", "--start-timeout", "1m"];
    const worker = work(queue, log.env, ...flags);
    await worker.ready();
    await send(queue, "crash"); // its replacement sleeps 60 s before its handshake
    await waitFor(() => log.read().filter((e) => e.boot).length === 2, 15_000, "the replacement to start");
    worker.kill("SIGTERM");
    // Without the fix taskq waits for the replacement's handshake: the test's own timeout fails it.
    expect(await worker.exited).toBe(0);
    const replacement = log.read().filter((e) => e.boot)[1]?.pid ?? 0;
    await waitFor(() => !alive(replacement), 3000, "the replacement to be killed");
  }, 30_000);

  test("a Ctrl+C (SIGINT to taskq's process group, as a terminal sends it) misses the handler: its task finishes", async () => {
    const queue = tracked.name("persist-ctrl-c");
    const log = handlerLog();
    // setsid: taskq leads a group of its own, as a shell's foreground job does.
    const args = ["work", "-q", queue, "--json", "--persistent", "--", PY, HANDLER];
    const proc = Bun.spawn(["setsid", TASKQ_BIN, ...args], {
      env: { ...process.env, TASKQ_URL: BROKER_URL, ...log.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const stdout = new Response(proc.stdout).text();
    await send(queue, "sleep 2");
    await waitFor(() => log.read().length === 1, 15_000, "the task to start");
    process.kill(-proc.pid, "SIGINT");
    expect(await proc.exited).toBe(0);
    expect(jsonLines<JsonLine>(await stdout).map((l) => l.outcome)).toEqual(["done"]);
    expect(log.read().at(-1)?.eof).toBe(true); // it ran to its input's end, not killed by the SIGINT
  });

  test("a signal during the handshake: taskq stops, and the handler not yet handshaken does not outlive it", async () => {
    const queue = tracked.name("persist-term-handshake");
    const log = handlerLog("silent");
    const worker = work(queue, log.env, "--start-timeout", "1m");
    const handler = () => log.read().find((e) => e.boot)?.pid ?? 0;
    try {
      await waitFor(() => handler() > 0, 15_000, "the handler to start");
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(0); // without the fix: 143, killed by the SIGTERM
      expect(worker.stderr).toContain("Stopped (signal) before the handler's handshake: no task taken");
      await waitFor(() => !alive(handler()), 3000, "the handler to be killed");
    } finally {
      if (alive(handler())) process.kill(handler(), "SIGKILL");
    }
  });

  test("a handler that never answers the handshake: one-line error after --start-timeout, no task taken", async () => {
    const queue = tracked.name("persist-silent");
    await send(queue, "ok");
    const worker = work(queue, handlerLog("silent").env, "--start-timeout", "1s");
    expect(await worker.exited).toBe(1);
    expect(oneLineError(worker.stderr)).toContain("did not answer the handshake within 1s");
    expect(await readyCount(queue)).toBe(1);
  });

  test("a handler that keeps failing to start stops the worker with its reason; the task is kept", async () => {
    const queue = tracked.name("persist-flaky", [1000]);
    await send(queue, "crash", "ok");
    const worker = work(queue, handlerLog("flaky").env, "--max-attempts", "1");
    expect(await worker.exited).toBe(1);
    const last = worker.stderr.trim().split("\n").at(-1) ?? "";
    expect(last).toContain(
      "the handler failed to start 5 times in a row: handler ended (exit code 7) before its handshake",
    );
    expect(last).toContain("cannot start");
    // "crash" went to .dead; "ok" was never run: it went back as "not now", spending no attempt.
    const [dead] = await drain(`${queue}.dead`);
    expect(dead?.content.toString()).toBe("crash");
    await waitFor(async () => (await readyCount(queue)) === 1, 10_000, "the task kept, back in its queue");
    const [kept] = await drain(queue);
    expect(kept?.content.toString()).toBe("ok");
    expect(kept?.properties.headers?.["x-taskq-attempt"] ?? 1).toBe(1);
  });

  test("a handler that exits 0 after its handshake stops the worker after 5 failed starts; its tasks spend no attempt", async () => {
    const queue = tracked.name("persist-exit0", [100, 200, 400, 800]);
    await send(queue, "a", "b", "c");
    const args = ["work", "-q", queue, "--json", "--persistent", "--max-attempts", "1", "--retry-delay", "100ms"];
    // Without the fix it restarts for ever: the test's own timeout fails it.
    const worker = new TaskqProcess([...args, "--", "sh", "-c", "echo taskq-handler 1; exit 0"]);
    expect(await worker.exited).toBe(1);
    expect(worker.stderr.trim().split("\n").at(-1)).toBe(
      "taskq: the handler failed to start 5 times in a row: handler ended (exit code 0) having answered no task",
    );
    expect(worker.stderr).toMatch(/ \[\*\] Stopped \(the handler failed to start\): 0 done, \d+ retried, 0 dead/);
    const outcomes = jsonLines<JsonLine>(worker.stdout).map((l) => [l.outcome, l.reason]);
    expect(outcomes.length).toBeGreaterThan(0);
    for (const o of outcomes) expect(o).toEqual(["retry", "not run: handler ended (exit code 0) before answering it"]);
    await waitFor(async () => (await readyCount(queue)) === 3, 10_000, "the three tasks back in the queue");
  }, 40_000);

  test("a handler that answers one task then exits 0: a task written to it as it exits goes back unread, spending no attempt", async () => {
    const queue = tracked.name("persist-oneshot", [100, 200, 400, 800]);
    const log = handlerLog("oneshot");
    const bodies = ["a", "b", "c", "d", "e", "f"];
    await send(queue, ...bodies);
    const flags = ["--max-attempts", "1", "--retry-delay", "100ms", "--idle-exit", "3s"];
    const worker = work(queue, log.env, ...flags);
    expect(await worker.exited).toBe(0);
    const lines = jsonLines<JsonLine>(worker.stdout);
    expect(lines.filter((l) => l.outcome === "dead")).toEqual([]); // before the fix: tasks never read went dead
    expect(new Set(lines.filter((l) => l.outcome === "done").map((l) => l.id)).size).toBe(6);
    for (const l of lines.filter((l) => l.outcome !== "done"))
      expect(l.reason).toBe("not run: handler ended (exit code 0) before answering it");
    const read = log
      .read()
      .filter((e) => !e.eof)
      .map((e) => Buffer.from(e.hex ?? "", "hex").toString());
    expect(read.sort()).toEqual(bodies); // each task read once: the ones handed back were never read
  }, 40_000);

  test("bench --handler CMD --persistent: each worker keeps one process; without --persistent, one per task", async () => {
    for (const persistent of [true, false]) {
      const log = handlerLog();
      const args = ["bench", "--tasks", "8", "--workers", "2", "--work", "0", "--prefetch", "auto", "--quiet"];
      args.push(...(persistent ? ["--handler", `${PY} ${HANDLER}`, "--persistent"] : ["--handler", `${PY} ${ONCE}`]));
      const r = await runTaskq(args, { env: log.env, timeoutMs: 120_000 });
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
      const tasks = log.read().filter((e) => !e.eof);
      expect(tasks).toHaveLength(8);
      if (persistent) expect(pids(tasks).length).toBeLessThanOrEqual(2);
      else expect(pids(tasks)).toHaveLength(8);
    }
  });

  test.each([
    ["Python", PY, "handler.py"],
    ["Node", "node", "handler.mjs"],
  ])(
    "the %s handler of examples/handlers speaks the protocol: done, and a failure with its reason",
    async (_, bin, file) => {
      const queue = tracked.name("persist-example");
      await send(queue, "hello", "fail me");
      const example = join(import.meta.dir, "..", "..", "examples", "handlers", file);
      const args = ["work", "-q", queue, "--json", "--persistent", "--max-tasks", "2", "--max-attempts", "1"];
      const worker = new TaskqProcess([...args, "--", bin, example]);
      expect(await worker.exited).toBe(0);
      const lines = jsonLines<JsonLine>(worker.stdout);
      expect(lines.map((l) => [l.outcome, l.reason])).toEqual([
        ["done", undefined],
        ["dead", file.endsWith(".py") ? "RuntimeError: asked to fail" : "asked to fail"],
      ]);
    },
  );

  test("bad flags: one line, exit 2, nothing started", async () => {
    for (const [args, text] of [
      [["--persistent"], "--persistent needs a COMMAND"],
      [["--max-tasks-per-process", "3", "--", "python3", HANDLER], "--max-tasks-per-process needs --persistent"],
      [["--start-timeout", "1s", "--", "python3", HANDLER], "--start-timeout needs --persistent"],
      [
        ["--persistent", "--label-output", "--", "python3", HANDLER],
        "--label-output is not available with --persistent",
      ],
    ] as const) {
      const r = await runTaskq(["work", "-q", "never-used", ...args]);
      expect(r.code).toBe(2);
      expect(oneLineError(r.stderr)).toContain(text);
    }
    for (const [args, text] of [
      [["--persistent"], "--persistent needs --handler CMD"],
      [["--handler", "/no/such/handler"], "command not found or not executable: /no/such/handler"],
    ] as const) {
      const r = await runTaskq(["bench", ...args]);
      expect(r.code).toBe(2);
      expect(oneLineError(r.stderr)).toContain(text);
    }
  });
});
