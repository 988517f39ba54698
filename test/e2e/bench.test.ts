import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BROKER_URL, brokerCounts, waitFor, withChannel } from "../support/broker.ts";
import { TASKQ_BIN, TaskqProcess, oneLineError, runTaskq } from "../support/taskq.ts";

interface Run {
  prefetch: number;
  workers: number;
  tasks: number;
  work: string;
  throughput: number;
  makespanMs: number;
  idealMs: number;
  efficiency: number | null;
  jain: number;
  latencyMs: { wait: Record<string, number>; total: Record<string, number> };
  gapMs: Record<string, number>;
  perWorker: Array<{ tasks: number; busyMs: number }>;
  missing: number;
  duplicates: number;
}

/** Processes in the process group `pgid`. */
function groupMembers(pgid: number): string[] {
  return Bun.spawnSync(["pgrep", "-g", String(pgid)])
    .stdout.toString()
    .split("\n")
    .filter(Boolean);
}

/** Child processes of `pid`. */
function childPids(pid: number): number[] {
  return Bun.spawnSync(["pgrep", "-P", String(pid)])
    .stdout.toString()
    .split("\n")
    .filter(Boolean)
    .map(Number);
}

/** The `--queue` a process was started with, from its command line. */
function queueOf(pid: number): string | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const i = argv.indexOf("--queue");
    return i >= 0 ? argv[i + 1] : undefined;
  } catch {
    return undefined;
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

describe("taskq bench", () => {
  test("one run per prefetch value, every task accounted, the documented JSON shape", async () => {
    const r = await runTaskq(
      ["bench", "--tasks", "120", "--workers", "2", "--work", "mix:80%1ms,20%5ms", "--prefetch", "1,10", "--json"],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: Run[]; latencyMethod: string };
    expect(doc.runs.map((run) => run.prefetch)).toEqual([1, 10]);
    expect(doc.latencyMethod).toContain("exact");
    for (const run of doc.runs) {
      expect(Object.keys(run)).toEqual(
        expect.arrayContaining([
          "prefetch",
          "workers",
          "tasks",
          "work",
          "throughput",
          "makespanMs",
          "idealMs",
          "efficiency",
          "jain",
          "latencyMs",
          "perWorker",
          "missing",
          "duplicates",
        ]),
      );
      expect(run).toMatchObject({ workers: 2, tasks: 120, work: "mix:80%1ms,20%5ms", missing: 0, duplicates: 0 });
      expect(run.perWorker).toHaveLength(2);
      expect(run.perWorker.reduce((s, w) => s + w.tasks, 0)).toBe(120);
      expect(run.efficiency).toBeGreaterThan(0);
      expect(run.efficiency).toBeLessThanOrEqual(1);
      expect(run.makespanMs).toBeGreaterThanOrEqual(run.idealMs);
      expect(run.jain).toBeGreaterThan(0);
      expect(run.jain).toBeLessThanOrEqual(1);
      for (const kind of ["wait", "total"] as const) {
        const p = run.latencyMs[kind] as Record<string, number>;
        expect(Object.keys(p).sort()).toEqual(["max", "p50", "p95", "p99"]);
        expect(p.p50).toBeLessThanOrEqual(p.p95 as number);
        expect(p.p99).toBeLessThanOrEqual(p.max as number);
      }
      expect(run.latencyMs.total.p50).toBeGreaterThanOrEqual(run.latencyMs.wait.p50 as number);
      expect(Object.keys(run.gapMs).sort()).toEqual(["max", "mean", "p50", "p95", "p99"]);
      expect(run.gapMs.p50).toBeGreaterThanOrEqual(0);
      expect(run.gapMs.p50).toBeLessThanOrEqual(run.gapMs.p99 as number);
      expect(run.gapMs.mean).toBeLessThanOrEqual(run.gapMs.max as number);
    }
  }, 90_000);

  test("zero work: efficiency is null (nothing to compare), the human table prints", async () => {
    const r = await runTaskq(
      ["bench", "--tasks", "50", "--workers", "1", "--work", "0", "--prefetch", "5", "--rounds", "2"],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("median of 2 rounds");
    expect(r.stdout).toMatch(/efficiency\s+n\/a \(no work\)/);
    expect(r.stdout).toMatch(/missing \/ duplicated\s+0 \/ 0/);
  }, 90_000);

  test.each([
    [["--work", "slow"], /--work 'slow'/],
    [["--work", "mix:50%1ms,20%2ms"], /shares add up to 70%/],
    [["--prefetch", "1,x"], /--prefetch '1,x'/],
    [["--prefetch", "0"], /from 1 to 65535/],
    [["--workers", "0"], /--workers/],
    [["--tasks", "many"], /--tasks/],
  ])("bad flags %j: one-line error, exit 2", async (args, pattern) => {
    const r = await runTaskq(["bench", ...args]);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(pattern);
  });

  test("Ctrl+C on a terminal while the workers start (SIGINT to the whole process group): exit 130 at once, nothing left", async () => {
    // setsid: the bench leads its own process group, as a shell's foreground job does.
    const proc = Bun.spawn(
      ["setsid", TASKQ_BIN, "bench", "--tasks", "200", "--workers", "3", "--work", "1ms", "--prefetch", "1", "--quiet"],
      {
        env: { ...process.env, TASKQ_URL: BROKER_URL },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    // The workers starting: the bench has spawned one at least (the group holds more than the bench).
    await waitFor(() => groupMembers(proc.pid).length > 1, 15_000, "the first worker spawned");
    const sent = Date.now();
    process.kill(-proc.pid, "SIGINT");
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(stderr.trim()).toBe("taskq: bench interrupted");
    expect(code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(5000);
    // The bench SIGKILLs its workers as it exits, without waiting: they may take a moment to go.
    await waitFor(() => groupMembers(proc.pid).length === 0, 2000, "the group to be gone").catch(() => {});
    expect(groupMembers(proc.pid)).toEqual([]);
  }, 30_000);

  test("Ctrl+C stops the workers and deletes the bench queue", async () => {
    const bench = new TaskqProcess(["bench", "--tasks", "400", "--workers", "2", "--work", "50ms", "--prefetch", "1"]);
    await waitFor(() => bench.stderr.includes("round: prefetch 1"), 20_000, "the round to start");
    // Workers running, tasks in flight: both spawned, and the broker has tasks of the bench's
    // queue (named on the workers' command lines) out to them.
    const pids = await waitFor(
      () => (childPids(bench.pid).length === 2 ? childPids(bench.pid) : null),
      20_000,
      "both workers spawned",
    );
    const queue = await waitFor(
      () => pids.map(queueOf).find(Boolean),
      5000,
      "the bench queue on a worker's command line",
    );
    await waitFor(async () => (await brokerCounts(queue)).unacked > 0, 20_000, "tasks in flight");
    bench.kill("SIGINT");
    expect(await bench.exited).toBe(130);
    expect(bench.stderr).toContain("taskq: bench interrupted");
    const declared = await withChannel((ch) => ch.checkQueue(queue)).then(
      () => "still there",
      (err: Error) => (/NOT_FOUND/.test(err.message) ? "deleted" : err.message),
    );
    expect(declared).toBe("deleted");
    // The bench kills its workers without waiting for them: give them a moment to go.
    await waitFor(() => !pids.some(alive), 5000, "the workers gone").catch(() => {});
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
