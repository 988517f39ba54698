import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drain, trackedQueues, waitFor } from "../support/broker.ts";
import { TaskqProcess, jsonLines, oneLineError, runTaskq } from "../support/taskq.ts";

// A failed command's stderr on its copies (--stderr-tail), its lines labelled (--label-output),
// a missing #! interpreter named, and what the worker says per task (-v) and at its end.

const tracked = trackedQueues();
const dir = mkdtempSync(join(tmpdir(), "taskq-output-"));
afterAll(async () => {
  await tracked.deleteAll();
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, text: string, shebang = "#!/bin/sh"): string {
  const path = join(dir, name);
  writeFileSync(path, `${shebang}\n${text}\n`);
  chmodSync(path, 0o755);
  return path;
}

interface DeadJson {
  id: string;
  reason: string;
  exitCode: number | null;
  stderr: string | null;
}

const send = async (queue: string, ...bodies: string[]) =>
  expect((await runTaskq(["send", "-q", queue, ...bodies])).code).toBe(0);
const deadJson = async (queue: string) =>
  jsonLines<DeadJson>((await runTaskq(["dead", "list", "-q", queue, "--json"])).stdout);

const failing = script(
  "fail.sh",
  "cat >/dev/null\necho 'reading file013.txt' >&2\necho 'bug: cannot parse file013.txt' >&2\nexit 3",
);

describe("a failed command's stderr travels with its task", () => {
  test("dead list shows the last lines of its stderr (table and --json); the worker's own stderr still has them; the worker ends with a summary", async () => {
    const queue = tracked.name("out-tail");
    await send(queue, "file013.txt");
    const worker = await runTaskq(["work", "-q", queue, "--max-attempts", "1", "--idle-exit", "1s", "--", failing]);
    expect(worker.code).toBe(0);
    expect(worker.stderr).toContain("reading file013.txt\nbug: cannot parse file013.txt\n");
    expect(worker.stderr).toMatch(
      / \[\*\] Stopped \(--idle-exit\): 0 done, 0 retried, 1 dead, 0 handed back in [\d.]+m?s\n$/,
    );

    const [dead] = await deadJson(queue);
    expect(dead).toMatchObject({
      reason: "command exited with code 3",
      exitCode: 3,
      stderr: "reading file013.txt\nbug: cannot parse file013.txt\n",
    });
    const table = (await runTaskq(["dead", "list", "-q", queue])).stdout.trimEnd().split("\n");
    expect(table.slice(-2)).toEqual(["    stderr: reading file013.txt", "    stderr: bug: cannot parse file013.txt"]);
  });

  test("--stderr-tail 0 keeps nothing, and the command's stderr still reaches the worker's", async () => {
    const queue = tracked.name("out-tail-off");
    await send(queue, "secret");
    const worker = await runTaskq([
      "work",
      "-q",
      queue,
      "--max-attempts",
      "1",
      "--idle-exit",
      "1s",
      "--stderr-tail",
      "0",
      "--",
      failing,
    ]);
    expect(worker.stderr).toContain("bug: cannot parse file013.txt\n");
    const [dead] = await deadJson(queue);
    expect(dead?.exitCode).toBe(3);
    expect(dead?.stderr).toBeNull();
    expect((await runTaskq(["dead", "list", "-q", queue])).stdout).not.toContain("stderr:");
  });

  test("a tail longer than the limit is cut to its last bytes, on a character", async () => {
    const queue = tracked.name("out-tail-cut");
    // 3000 bytes, then a 2-byte é that the 101-byte limit cuts in two, then 100 bytes
    const text = join(dir, "long.txt");
    writeFileSync(text, `${"a".repeat(3000)}é${"z".repeat(99)}\n`);
    const long = script("long.sh", `cat >/dev/null\ncat ${text} >&2\nexit 1`);
    await send(queue, "x");
    await runTaskq([
      "work",
      "-q",
      queue,
      "--max-attempts",
      "1",
      "--idle-exit",
      "1s",
      "--stderr-tail",
      "101",
      "--",
      long,
    ]);
    const [dead] = await deadJson(queue);
    expect(dead?.stderr).toBe(`${"z".repeat(99)}\n`);
  });

  test("a retry copy carries its attempt's stderr; an attempt that wrote nothing leaves no earlier one on the dead copy", async () => {
    const queue = tracked.name("out-tail-retry", [3_600_000]);
    const firstOnly = script(
      "first.sh",
      `cat >/dev/null\n[ "$TASKQ_ATTEMPT" = 1 ] && echo "attempt $TASKQ_ATTEMPT failed" >&2\nexit 1`,
    );
    await send(queue, "a");
    await runTaskq([
      "work",
      "-q",
      queue,
      "--max-attempts",
      "2",
      "--retry-delay",
      "1h",
      "--retry-max-delay",
      "1h",
      "--idle-exit",
      "1s",
      "--",
      firstOnly,
    ]);
    const [waiting] = await drain(`${queue}.retry.3600000`);
    expect(waiting?.properties.headers?.["x-taskq-stderr"]).toBe("attempt 1 failed\n");

    const queue2 = tracked.name("out-tail-retry2", [100]);
    await send(queue2, "b");
    await runTaskq([
      "work",
      "-q",
      queue2,
      "--max-attempts",
      "2",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      "--",
      firstOnly,
    ]);
    const [dead] = await deadJson(queue2);
    expect(dead?.reason).toBe("command exited with code 1");
    expect(dead?.stderr).toBeNull();
  });
});

describe("--label-output", () => {
  test("each line of the command's stdout and stderr starts with [<task id>]; a partial last line is ended", async () => {
    const queue = tracked.name("out-label");
    const talk = script(
      "talk.sh",
      "cat >/dev/null\necho out one\necho out two\necho err line >&2\nprintf 'no newline' >&2",
    );
    await send(queue, "a");
    const worker = await runTaskq(["work", "-q", queue, "--idle-exit", "1s", "--label-output", "-v", "--", talk]);
    const id = /\[([^\]]+)\] out one/.exec(worker.stdout)?.[1];
    expect(id).toMatch(/-1$/);
    expect(worker.stdout).toBe(`[${id}] out one\n[${id}] out two\n`);
    expect(worker.stderr).toContain(`[${id}] err line\n[${id}] no newline\n`);
    expect(worker.stderr).toMatch(new RegExp(` \\[-\\] task ${id} attempt 1: done in [\\d.]+m?s\\n`));
  });
});

describe("a #! interpreter that is not there", () => {
  test("fails at start-up, exit 2, naming the interpreter", async () => {
    const queue = tracked.name("out-shebang");
    const bad = script("bad.sh", "echo hi", "#!/usr/bin/nonexistent");
    const r = await runTaskq(["work", "-q", queue, "--", bad]);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toBe(`taskq: ${bad}: its interpreter /usr/bin/nonexistent (#! line) does not exist`);
    const viaEnv = script("env.sh", "echo hi", "#!/usr/bin/env taskq-nosuchprog");
    const e = await runTaskq(["work", "-q", queue, "--", viaEnv]);
    expect(e.code).toBe(2);
    expect(oneLineError(e.stderr)).toBe(
      `taskq: ${viaEnv}: its interpreter taskq-nosuchprog (#!/usr/bin/env taskq-nosuchprog) is not found on PATH`,
    );
  });

  test("gone after start-up: the task's reason names it", async () => {
    const queue = tracked.name("out-shebang-late");
    const interpreter = join(dir, "my-sh");
    symlinkSync("/bin/sh", interpreter);
    const job = script("late.sh", "cat >/dev/null", `#!${interpreter}`);
    const worker = new TaskqProcess(["work", "-q", queue, "--max-attempts", "1", "--idle-exit", "1s", "--", job]);
    await waitFor(() => worker.stderr.includes("Waiting for tasks"), 15_000, "the worker to start");
    rmSync(interpreter);
    await send(queue, "a");
    expect(await worker.exited).toBe(0);
    const [dead] = await deadJson(queue);
    expect(dead?.reason).toBe(`could not run ${job}: its interpreter ${interpreter} (#! line) does not exist`);
  });
});

describe("what the worker says", () => {
  test("-v: one line per task; SIGTERM drains and ends with the summary", async () => {
    const queue = tracked.name("out-summary");
    const worker = new TaskqProcess(["work", "-q", queue, "-v", "--", "sh", "-c", "cat >/dev/null"]);
    await waitFor(() => worker.stderr.includes("Waiting for tasks"), 15_000, "the worker to start");
    await send(queue, "a", "b");
    await waitFor(() => worker.stderr.split(" [-] task ").length === 3, 15_000, "two -v lines");
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(worker.stderr).toMatch(
      / \[-\] task \S+-1 attempt 1: done in [\d.]+m?s\n \[-\] task \S+-2 attempt 1: done in/,
    );
    expect(worker.stderr).toMatch(
      / \[\*\] Stopped \(signal\): 2 done, 0 retried, 0 dead, 0 handed back in [\d.]+m?s\n$/,
    );
  });

  test("a running command's stderr shows as it is written, not when it exits", async () => {
    const queue = tracked.name("out-live");
    const flag = join(dir, "live-go");
    const slow = script(
      "live.sh",
      `cat >/dev/null\necho 'step 1 of 2' >&2\nwhile [ ! -f ${flag} ]; do sleep 0.05; done\necho 'step 2 of 2' >&2`,
    );
    const worker = new TaskqProcess(["work", "-q", queue, "-v", "--", slow]);
    await waitFor(() => worker.stderr.includes("Waiting for tasks"), 15_000, "the worker to start");
    await send(queue, "a");
    await waitFor(() => worker.stderr.includes("step 1 of 2\n"), 15_000, "the first line while the task runs");
    expect(worker.stderr).not.toContain(" [-] task "); // still running: it waits for the flag
    writeFileSync(flag, "");
    await waitFor(() => worker.stderr.includes(" [-] task "), 15_000, "the task to end");
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(worker.stderr).toMatch(/step 1 of 2\nstep 2 of 2\n \[-\] task \S+ attempt 1: done/);
  });

  test("a background process left holding the command's stderr does not hold the task or the worker", async () => {
    const queue = tracked.name("out-background");
    const pidFile = join(dir, "background.pid");
    const leaves = script(
      "leaves.sh",
      `cat >/dev/null\nsleep 60 >/dev/null &\necho $! > ${pidFile}\necho 'left one behind' >&2\nexit 1`,
    );
    await send(queue, "a");
    const worker = await runTaskq(["work", "-q", queue, "--max-attempts", "1", "--idle-exit", "1s", "--", leaves]);
    process.kill(Number(await Bun.file(pidFile).text()), "SIGKILL");
    expect(worker.code).toBe(0);
    expect(worker.stderr).toContain("1 dead");
    const [dead] = await deadJson(queue);
    expect(dead?.stderr).toBe("left one behind\n");
  });
});
