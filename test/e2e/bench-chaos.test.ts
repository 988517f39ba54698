import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dumpDom } from "../support/chromium.ts";
import { type LocalCluster, suiteCluster } from "../support/cluster.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

const CLUSTER_SCRIPT = join(import.meta.dir, "..", "..", "scripts", "cluster");
const dir = mkdtempSync(join(tmpdir(), "taskq-chaos-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Fault {
  kind: "worker" | "node";
  target: number;
  at: number;
  back?: number;
}

interface ChaosRun {
  tasks: number;
  chaos: string | null;
  kills: { worker: number; node: number };
  redeliveries: number;
  resent: number;
  duplicates: number;
  missing: number;
  faults: Fault[];
  perWorker: Array<{ tasks: number; busyMs: number }>;
  failoverMs?: { p50: number | null; max: number | null; workers: number; unmeasured: number } | null;
}

/** The kill marks of a report page (or of Chromium's DOM of it), in order: kind, target, at. */
function killMarks(page: string): Array<[string, number, number]> {
  return [...page.matchAll(/<g class="kill kill-(worker|node)" data-kind="\w+" data-target="(\d+)" data-at="([\d.]+)">/g)].map((m) => [m[1] as string, Number(m[2]), Number(m[3])]);
}

/** What every chaos run must show: each task done at least once, the faults listed as counted. */
function expectNothingLost(run: ChaosRun) {
  expect(Object.keys(run)).toEqual(expect.arrayContaining(["chaos", "kills", "redeliveries", "resent", "duplicates", "missing", "faults"]));
  expect(run.missing).toBe(0);
  expect(run.perWorker.reduce((sum, w) => sum + w.tasks, 0)).toBe(run.tasks);
  expect(run.faults.filter((f) => f.kind === "worker")).toHaveLength(run.kills.worker);
  expect(run.faults.filter((f) => f.kind === "node")).toHaveLength(run.kills.node);
  for (const f of run.faults) expect(f.at).toBeGreaterThanOrEqual(0);
}

describe("taskq bench --chaos kill-worker", () => {
  test(
    "SIGKILL a worker every 500 ms, zero work: exit 0, kills > 0, nothing missing; the JSON counts them and the report marks each",
    async () => {
      const TASKS = 4000;
      const report = join(dir, "kill-worker.html");
      const r = await runTaskq(["bench", "--tasks", String(TASKS), "--workers", "3", "--work", "0", "--prefetch", "1", "--chaos", "kill-worker:500ms", "--json", "--report", report], { timeoutMs: 280_000 });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as { chaos: string; queueType: string; runs: ChaosRun[]; medians: ChaosRun[] };
      expect(doc).toMatchObject({ chaos: "kill-worker:500ms", queueType: "classic" });
      const run = doc.runs[0] as ChaosRun;
      console.log(`kill-worker: ${TASKS} tasks, ${run.kills.worker} kills, ${run.redeliveries} redelivered, ${run.duplicates} duplicates`);
      expectNothingLost(run);
      expect(run).toMatchObject({ chaos: "kill-worker:500ms", kills: { node: 0 }, resent: 0 });
      expect(run.kills.worker).toBeGreaterThan(0);
      for (const f of run.faults) expect([1, 2, 3]).toContain(f.target);
      // Prefetch 1: a killed worker held at most one task it had reported and not yet acked.
      expect(run.duplicates).toBeLessThanOrEqual(run.kills.worker);
      expect(run.redeliveries).toBeLessThanOrEqual(run.kills.worker + run.duplicates);

      const page = readFileSync(report, "utf8");
      const marks = killMarks(page);
      expect(marks.map(([kind, target]) => [kind, target])).toEqual(run.faults.map((f) => [f.kind, f.target]));
      for (const f of run.faults) expect(page).toContain(`✕ w${f.target}`);
      expect(page).toContain(`${run.kills.worker} worker kill(s)`);
      // What a browser makes of it: the same marks in the rendered DOM.
      expect(killMarks(await dumpDom(report))).toEqual(marks);
    },
    300_000,
  );
});

describe("taskq bench --chaos: usage errors, one line, exit 2", () => {
  const TWO_NODES = "amqp://guest:guest@127.0.0.1:5672,amqp://guest:guest@127.0.0.1:5673";
  test.each<[string, string[], string | undefined, RegExp]>([
    ["kill-node without --node-control", ["--chaos", "kill-node:3s", "--queue-type", "quorum"], TWO_NODES, /--chaos kill-node needs --node-control CMD/],
    ["kill-node on a single URL", ["--chaos", "kill-node:3s", "--node-control", CLUSTER_SCRIPT, "--queue-type", "quorum"], undefined, /--chaos kill-node needs the URLs of several nodes/],
    ["kill-node on a classic queue", ["--chaos", "kill-node:3s", "--node-control", CLUSTER_SCRIPT], TWO_NODES, /--chaos kill-node needs --queue-type quorum/],
    ["a --node-control that is not there", ["--chaos", "kill-node:3s", "--node-control", "./no-such-cluster", "--queue-type", "quorum"], TWO_NODES, /command not found or not executable: \.\/no-such-cluster/],
    ["--node-control without kill-node", ["--chaos", "kill-worker:1s", "--node-control", CLUSTER_SCRIPT], undefined, /--node-control is for --chaos kill-node/],
    ["an unknown fault", ["--chaos", "kill-foo:1s"], undefined, /--chaos 'kill-foo:1s': 'kill-foo' is not a fault/],
    ["an interval that is not a duration", ["--chaos", "kill-worker:abc"], undefined, /--chaos 'kill-worker:abc': 'abc' is not a duration/],
    ["no interval", ["--chaos", "kill-worker"], undefined, /'kill-worker' needs an interval/],
  ])("%s", async (_name, args, urls, pattern) => {
    const r = await runTaskq(["bench", "--tasks", "10", ...args], urls === undefined ? {} : { env: { TASKQ_URL: urls } });
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(pattern);
    expect(r.stdout).toBe("");
  });
});

describe("taskq bench --chaos kill-node (a local three-node cluster)", () => {
  // The suite's one cluster (also cluster.test.ts's), stopped after every file.
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await suiteCluster();
  }, 300_000);

  test(
    "quorum queue, kill -9 a node every 3 s (scripts/cluster): exit 0, node kills >= 1, nothing missing, every node up after",
    async () => {
      const env = { TASKQ_URL: cluster.urls.join(","), TASKQ_CLUSTER_NAME: cluster.name, TASKQ_CLUSTER_BASE: String(cluster.base) };
      // 10 ms tasks keep the round going past the first kill however fast the machine is (ideal: 6 s).
      const r = await runTaskq(["bench", "--queue-type", "quorum", "--chaos", "kill-node:3s", "--node-control", CLUSTER_SCRIPT, "--tasks", "1800", "--work", "10ms", "--workers", "3", "--prefetch", "10", "--json"], { env, timeoutMs: 290_000 });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as { chaos: string; queueType: string; runs: ChaosRun[] };
      expect(doc).toMatchObject({ chaos: "kill-node:3s", queueType: "quorum" });
      const run = doc.runs[0] as ChaosRun;
      console.log(`kill-node: ${run.tasks} tasks, ${run.kills.node} node kill(s) ${JSON.stringify(run.faults)}, ${run.redeliveries} redelivered, ${run.duplicates} duplicates, ${run.resent} re-sent`);
      expectNothingLost(run);
      expect(run.kills).toMatchObject({ worker: 0 });
      expect(run.kills.node).toBeGreaterThanOrEqual(1);
      for (const f of run.faults) {
        expect([1, 2, 3]).toContain(f.target);
        expect(f.back).toBeGreaterThan(f.at);
      }
      // Each of the 3 workers starts on another node, so the first kill cuts one off at least: its
      // failover is timed (or counted as untimed when the round ended before it did a task again).
      const failover = run.failoverMs;
      console.log(`kill-node failover: ${JSON.stringify(failover)}`);
      expect(failover).toBeTruthy();
      expect((failover?.workers ?? 0) + (failover?.unmeasured ?? 0)).toBeGreaterThanOrEqual(1);
      if ((failover?.workers ?? 0) > 0) {
        expect(failover?.p50).toBeGreaterThan(0);
        expect(failover?.max).toBeGreaterThanOrEqual(failover?.p50 ?? 0);
      }
      // The bench started every node it killed again before it exited.
      expect(await cluster.runningNodes()).toHaveLength(3);
    },
    // About 60 s at a load average of 15; a node's boot alone took up to 190 s at 20.
    300_000,
  );
});
