import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { queueExists, readyCount, trackedQueues, waitFor } from "../support/broker.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const UNIT = join(import.meta.dir, "..", "..", "examples", "systemd", "taskq-worker@.service");
const unitText = readFileSync(UNIT, "utf8");

/** The unit's `Key=value` lines by section; a key set twice keeps both values in order. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (current === undefined || eq < 0) throw new Error(`not a unit line: ${raw}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const tmpDirs: string[] = [];
const queues = trackedQueues();
afterAll(async () => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
  await queues.deleteAll();
});

describe("examples/systemd/taskq-worker@.service", () => {
  const service = parseUnit(unitText).get("Service") ?? new Map<string, string[]>();
  const one = (key: string) => service.get(key) ?? [];

  test.each([
    ["ExecStart", "/usr/local/bin/taskq work --queue %i $TASKQ_WORK_FLAGS -- $TASKQ_COMMAND"],
    ["EnvironmentFile", "/etc/taskq/%i.env"],
    ["KillSignal", "SIGTERM"],
    ["KillMode", "mixed"],
    ["TimeoutStopSec", "5min"],
    ["Restart", "on-failure"],
    // A usage error does not fix itself: the code is taskq's own (src/errors.ts).
    ["RestartPreventExitStatus", String(ExitCode.usage)],
    ["User", "taskq"],
    ["NoNewPrivileges", "yes"],
    ["ProtectSystem", "strict"],
  ])("[Service] %s=%s, once", (key, value) => {
    expect(one(key)).toEqual([value]);
  });

  test("no hardening that would break taskq itself (its JIT) or arbitrary commands", () => {
    for (const key of ["MemoryDenyWriteExecute", "SystemCallFilter", "PrivateDevices", "RestrictNamespaces"]) {
      expect(service.has(key)).toBe(false);
    }
    // The working directory the commands may write to is the one systemd creates.
    expect(one("StateDirectory")).toEqual(["taskq/%i"]);
    expect(one("WorkingDirectory")).toEqual(["/var/lib/taskq/%i"]);
  });

  test("without TASKQ_COMMAND the ExecStart line is a usage error (exit 2), which RestartPreventExitStatus keeps from looping", async () => {
    // systemd drops an unset $TASKQ_COMMAND and $TASKQ_WORK_FLAGS: the argv ends with '--'.
    const r = await runTaskq(["work", "--queue", "taskq-test.systemd-never-used", "--"]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain("missing command after '--'");
  });

  const analyze = Bun.which("systemd-analyze");
  const units = "/usr/lib/systemd/system";
  const skip =
    analyze === null
      ? "no systemd-analyze on this machine (Debian: apt-get install systemd)"
      : !existsSync(units)
        ? `no ${units} to verify against`
        : undefined;
  test.skipIf(skip !== undefined)(
    skip === undefined
      ? "systemd-analyze verify accepts it without a warning"
      : `systemd-analyze verify: skipped, ${skip}`,
    async () => {
      // A root of its own: the system's unit files (for the targets it depends on), the unit, and an
      // executable at /usr/local/bin/taskq (verify checks ExecStart's program exists and is executable).
      const root = mkdtempSync(join(tmpdir(), "taskq-systemd-"));
      tmpDirs.push(root);
      cpSync(units, join(root, units), { recursive: true });
      mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
      cpSync(UNIT, join(root, "etc/systemd/system/taskq-worker@.service"));
      mkdirSync(join(root, "usr/local/bin"), { recursive: true });
      writeFileSync(join(root, "usr/local/bin/taskq"), "#!/bin/sh\n");
      chmodSync(join(root, "usr/local/bin/taskq"), 0o755);
      const proc = Bun.spawn(
        [
          analyze as string,
          `--root=${root}`,
          "verify",
          "taskq-worker@task_queue.service",
          "taskq-worker@jobs.high.service",
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      // verify exits 0 on unknown keys or bad values (it ignores them, with a warning): no output is the test.
      expect(`${out}${err}`).toBe("");
      expect(code).toBe(0);
    },
  );
});

/** A task command that records its pid (also its process group: taskq starts each in its own) and waits for `release`. */
function blockingCommand(): { command: string[]; pid: () => number | undefined; release: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "taskq-stop-"));
  tmpDirs.push(dir);
  const script = join(dir, "job.sh");
  writeFileSync(
    script,
    `#!/bin/sh\ncat >/dev/null\necho $$ > "${dir}/pid"\nwhile [ ! -f "${dir}/release" ]; do sleep 0.02; done\nexit 0\n`,
  );
  chmodSync(script, 0o755);
  return {
    command: ["--", script],
    pid: () => (existsSync(join(dir, "pid")) ? Number(readFileSync(join(dir, "pid"), "utf8")) || undefined : undefined),
    release: () => writeFileSync(join(dir, "release"), ""),
  };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("stopping a worker as systemd does", () => {
  test("KillMode=mixed: SIGTERM to taskq alone drains: the running task finishes and is acked, exit 0", async () => {
    const queue = queues.name("systemd-mixed", [60_000]);
    const job = blockingCommand();
    const worker = new TaskqProcess(["work", "-q", queue, "--retry-delay", "60s", ...job.command]);
    try {
      await worker.ready();
      expect((await runTaskq(["send", "-q", queue, "a long task"])).code).toBe(0);
      const pid = await waitFor(job.pid, 10_000, "the task to start");
      worker.kill("SIGTERM");
      await Bun.sleep(500);
      expect(alive(pid)).toBe(true); // the command was not signalled
      expect(worker.proc.exitCode).toBeNull(); // taskq waits for it
      job.release();
      expect(await worker.exited).toBe(0);
      expect(await readyCount(queue)).toBe(0); // acked: with the worker gone, an unacked task would be ready again
      expect(await queueExists(`${queue}.retry.60000`)).toBe(false); // never retried
    } finally {
      job.release();
      worker.kill("SIGKILL");
    }
  }, 30_000);

  test("control, KillMode=control-group (the default): SIGTERM to every process fails the running task, which the drain then retries", async () => {
    const queue = queues.name("systemd-cgroup", [60_000]);
    const job = blockingCommand();
    const worker = new TaskqProcess(["work", "-q", queue, "--retry-delay", "60s", ...job.command]);
    try {
      await worker.ready();
      expect((await runTaskq(["send", "-q", queue, "a long task"])).code).toBe(0);
      const pid = await waitFor(job.pid, 10_000, "the task to start");
      worker.kill("SIGTERM");
      process.kill(-pid, "SIGTERM"); // the command's process group, as systemd signals the whole cgroup
      expect(await worker.exited).toBe(0);
      expect(worker.stderr).toMatch(/failed: .*SIGTERM.*; attempt 1 failed, retry in/);
      expect(await readyCount(`${queue}.retry.60000`)).toBe(1);
      expect(await readyCount(queue)).toBe(0);
    } finally {
      job.release();
      worker.kill("SIGKILL");
    }
  }, 30_000);
});
