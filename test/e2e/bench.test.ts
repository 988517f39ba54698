import { describe, expect, test } from "bun:test";
import { BROKER_URL } from "../support/broker.ts";
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

describe("taskq bench", () => {
  test(
    "one run per prefetch value, every task accounted, the documented JSON shape",
    async () => {
      const r = await runTaskq(["bench", "--tasks", "120", "--workers", "2", "--work", "mix:80%1ms,20%5ms", "--prefetch", "1,10", "--json"], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as { runs: Run[]; latencyMethod: string };
      expect(doc.runs.map((run) => run.prefetch)).toEqual([1, 10]);
      expect(doc.latencyMethod).toContain("exact");
      for (const run of doc.runs) {
        expect(Object.keys(run)).toEqual(expect.arrayContaining(["prefetch", "workers", "tasks", "work", "throughput", "makespanMs", "idealMs", "efficiency", "jain", "latencyMs", "perWorker", "missing", "duplicates"]));
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
    },
    90_000,
  );

  test(
    "zero work: efficiency is null (nothing to compare), the human table prints",
    async () => {
      const r = await runTaskq(["bench", "--tasks", "50", "--workers", "1", "--work", "0", "--prefetch", "5", "--rounds", "2"], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("median of 2 rounds");
      expect(r.stdout).toMatch(/efficiency\s+n\/a \(no work\)/);
      expect(r.stdout).toMatch(/missing \/ duplicated\s+0 \/ 0/);
    },
    90_000,
  );

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

  test(
    "Ctrl+C on a terminal while the workers start (SIGINT to the whole process group): exit 130 at once, nothing left",
    async () => {
      // setsid: the bench leads its own process group, as a shell's foreground job does.
      const proc = Bun.spawn(["setsid", TASKQ_BIN, "bench", "--tasks", "200", "--workers", "3", "--work", "1ms", "--prefetch", "1", "--quiet"], {
        env: { ...process.env, TASKQ_URL: BROKER_URL },
        stdout: "pipe",
        stderr: "pipe",
      });
      await Bun.sleep(150);
      const sent = Date.now();
      process.kill(-proc.pid, "SIGINT");
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(130);
      expect(stderr.trim()).toBe("taskq: bench interrupted");
      expect(Date.now() - sent).toBeLessThan(5000);
      const left = Bun.spawnSync(["pgrep", "-g", String(proc.pid)]).stdout.toString().trim();
      expect(left).toBe("");
    },
    30_000,
  );

  test(
    "Ctrl+C stops the workers and deletes the bench queue",
    async () => {
      const bench = new TaskqProcess(["bench", "--tasks", "400", "--workers", "2", "--work", "50ms", "--prefetch", "1"]);
      const deadline = Date.now() + 20_000;
      while (!bench.stderr.includes("round: prefetch 1")) {
        if (Date.now() > deadline) throw new Error(`bench did not start: ${bench.stderr}`);
        await Bun.sleep(50);
      }
      await Bun.sleep(1500); // workers running, tasks in flight
      const queues = async () => {
        const p = Bun.spawn(["rabbitmqctl", "-q", "list_queues", "name", "--no-table-headers"], { stdout: "pipe", stderr: "ignore" });
        const text = await new Response(p.stdout).text();
        await p.exited;
        return text.split("\n").filter((n) => n.startsWith("taskq-bench-"));
      };
      const workerPids = async () => {
        const p = Bun.spawn(["pgrep", "-P", String(bench.pid)], { stdout: "pipe" });
        const text = await new Response(p.stdout).text();
        await p.exited;
        return text.split("\n").filter(Boolean);
      };
      const mine = await queues();
      expect(mine.length).toBeGreaterThanOrEqual(1);
      const pids = await workerPids();
      expect(pids.length).toBe(2);
      bench.kill("SIGINT");
      expect(await bench.exited).toBe(130);
      expect(bench.stderr).toContain("taskq: bench interrupted");
      const left = await queues();
      for (const q of mine) expect(left).not.toContain(q);
      const alive = (pid: string) => {
        try {
          process.kill(Number(pid), 0);
          return true;
        } catch {
          return false;
        }
      };
      await Bun.sleep(200);
      expect(pids.filter(alive)).toEqual([]);
    },
    60_000,
  );
});
