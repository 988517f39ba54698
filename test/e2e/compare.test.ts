import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

async function compare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["bash", join(ROOT, "scripts", "compare"), "--no-build", ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** The table's rows after its header, split into cells. */
const rows = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .slice(3)
    .map((line) => line.trim().split(/\s+/));

describe("scripts/compare (minimal amqplib work queue vs taskq bench)", () => {
  test("zero work: one row per prefetch with both rates and their ratio", async () => {
    const r = await compare(["--tasks", "200", "--workers", "2", "--prefetch", "1 20", "--rounds", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("200 tasks, 2 workers, work 0 (seed 1), median of 1 round(s)");
    // Zero work also runs the tutorial's client (scripts/minimal/tutorial.ts) in the same alternation.
    expect(r.stdout).toMatch(
      /prefetch\s+baseline tasks\/s\s+taskq tasks\/s\s+taskq\/baseline\s+tutorial tasks\/s\s+taskq\/tutorial\n/,
    );
    const table = rows(r.stdout);
    expect(table.map((row) => row[0])).toEqual(["1", "20"]);
    for (const [, baseline, taskq, ratio, tutorial, ratioTutorial] of table) {
      expect(Number(baseline)).toBeGreaterThan(0);
      expect(Number(taskq)).toBeGreaterThan(0);
      expect(Number(ratio)).toBeCloseTo(Number(taskq) / Number(baseline), 1);
      expect(Number(ratioTutorial)).toBeCloseTo(Number(taskq) / Number(tutorial), 1);
    }
  }, 90_000);

  test("with --work both run the same tasks and report makespan and efficiency", async () => {
    const r = await compare([
      "--tasks",
      "60",
      "--workers",
      "2",
      "--prefetch",
      "1",
      "--rounds",
      "1",
      "--work",
      "mix:80%1ms,20%5ms",
      "--seed",
      "7",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("work mix:80%1ms,20%5ms (seed 7)");
    expect(r.stdout).toContain("baseline efficiency  taskq efficiency");
    const [row] = rows(r.stdout);
    const [, , , , baselineMs, taskqMs, baselineEff, taskqEff] = (row ?? []).map(Number);
    expect(baselineMs).toBeGreaterThan(0);
    expect(taskqMs).toBeGreaterThan(0);
    for (const eff of [baselineEff, taskqEff]) {
      expect(eff).toBeGreaterThan(0);
      expect(eff).toBeLessThanOrEqual(1);
    }
  }, 90_000);

  test("a bad profile or seed: the run's own one-line error, exit 2", async () => {
    const bad = await compare(["--work", "bogus", "--rounds", "1", "--tasks", "10"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringContaining("--work 'bogus'")]);
    const seed = await compare(["--seed", "-1"]);
    expect(seed.code).toBe(2);
    expect(seed.stderr.trim()).toBe("compare: --seed must be a non-negative integer: -1");
  });
});
