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
  kind: "worker" | "node" | "freeze";
  target: number;
  at: number;
  back?: number;
}

interface ChaosRun {
  tasks: number;
  chaos: string | null;
  kills: { worker: number; node: number };
  freezes: number;
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
  return [
    ...page.matchAll(/<g class="kill kill-(worker|node)" data-kind="\w+" data-target="(\d+)" data-at="([\d.]+)">/g),
  ].map((m) => [m[1] as string, Number(m[2]), Number(m[3])]);
}

/** What every chaos run must show: each task done at least once, the faults listed as counted. */
function expectNothingLost(run: ChaosRun) {
  expect(Object.keys(run)).toEqual(
    expect.arrayContaining(["chaos", "kills", "redeliveries", "resent", "duplicates", "missing", "faults"]),
  );
  expect(run.missing).toBe(0);
  expect(run.perWorker.reduce((sum, w) => sum + w.tasks, 0)).toBe(run.tasks);
  expect(run.faults.filter((f) => f.kind === "worker")).toHaveLength(run.kills.worker);
  expect(run.faults.filter((f) => f.kind === "node")).toHaveLength(run.kills.node);
  expect(run.faults.filter((f) => f.kind === "freeze")).toHaveLength(run.freezes);
  for (const f of run.faults) expect(f.at).toBeGreaterThanOrEqual(0);
}

describe("taskq bench --chaos kill-worker", () => {
  test("SIGKILL a worker every 500 ms, zero work: exit 0, kills > 0, nothing missing; the JSON counts them and the report marks each", async () => {
    // Long enough for kills at any speed: 4,000 tasks once took under 500 ms (3 workers, prefetch 1), before the first kill.
    const TASKS = 20_000;
    const report = join(dir, "kill-worker.html");
    const r = await runTaskq(
      [
        "bench",
        "--tasks",
        String(TASKS),
        "--workers",
        "3",
        "--work",
        "0",
        "--prefetch",
        "1",
        "--chaos",
        "kill-worker:500ms",
        "--json",
        "--report",
        report,
      ],
      { timeoutMs: 280_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { chaos: string; queueType: string; runs: ChaosRun[]; medians: ChaosRun[] };
    expect(doc).toMatchObject({ chaos: "kill-worker:500ms", queueType: "classic" });
    const run = doc.runs[0] as ChaosRun;
    console.log(
      `kill-worker: ${TASKS} tasks, ${run.kills.worker} kills, ${run.redeliveries} redelivered, ${run.duplicates} duplicates`,
    );
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
  }, 300_000);
});

describe("taskq bench --chaos: usage errors, one line, exit 2", () => {
  const TWO_NODES = "amqp://guest:guest@127.0.0.1:5672,amqp://guest:guest@127.0.0.1:5673";
  test.each<[string, string[], string | undefined, RegExp]>([
    [
      "kill-node without --node-control",
      ["--chaos", "kill-node:3s", "--queue-type", "quorum"],
      TWO_NODES,
      /--chaos kill-node needs --node-control CMD/,
    ],
    [
      "kill-node on a single URL",
      ["--chaos", "kill-node:3s", "--node-control", CLUSTER_SCRIPT, "--queue-type", "quorum"],
      undefined,
      /--chaos kill-node needs the URLs of several nodes/,
    ],
    [
      "kill-node on a classic queue",
      ["--chaos", "kill-node:3s", "--node-control", CLUSTER_SCRIPT],
      TWO_NODES,
      /--chaos kill-node needs --queue-type quorum/,
    ],
    [
      "a --node-control that is not there",
      ["--chaos", "kill-node:3s", "--node-control", "./no-such-cluster", "--queue-type", "quorum"],
      TWO_NODES,
      /command not found or not executable: \.\/no-such-cluster/,
    ],
    [
      "--node-control without kill-node",
      ["--chaos", "kill-worker:1s", "--node-control", CLUSTER_SCRIPT],
      undefined,
      /--node-control is for --chaos kill-node/,
    ],
    ["an unknown fault", ["--chaos", "kill-foo:1s"], undefined, /--chaos 'kill-foo:1s': 'kill-foo' is not a fault/],
    [
      "an interval that is not a duration",
      ["--chaos", "kill-worker:abc"],
      undefined,
      /--chaos 'kill-worker:abc': 'abc' is not a duration/,
    ],
    ["no interval", ["--chaos", "kill-worker"], undefined, /'kill-worker' needs an interval/],
    [
      "freeze-node without --node-control",
      ["--chaos", "freeze-node:10s", "--queue-type", "quorum"],
      TWO_NODES,
      /--chaos freeze-node needs --node-control CMD, run as 'CMD freeze N' and 'CMD thaw N'/,
    ],
    [
      "freeze-node on a single URL",
      ["--chaos", "freeze-node:10s", "--node-control", CLUSTER_SCRIPT, "--queue-type", "quorum"],
      undefined,
      /--chaos freeze-node needs the URLs of several nodes/,
    ],
    [
      "freeze-node on a classic queue",
      ["--chaos", "freeze-node:10s", "--node-control", CLUSTER_SCRIPT],
      TWO_NODES,
      /--chaos freeze-node needs --queue-type quorum/,
    ],
    ["freeze-node with no interval", ["--chaos", "freeze-node"], undefined, /'freeze-node' needs an interval/],
  ])("%s", async (_name, args, urls, pattern) => {
    const r = await runTaskq(
      ["bench", "--tasks", "10", ...args],
      urls === undefined ? {} : { env: { TASKQ_URL: urls } },
    );
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(pattern);
    expect(r.stdout).toBe("");
  });
});

describe("taskq bench --chaos kill-node and freeze-node (a local three-node cluster)", () => {
  // The suite's one cluster (also cluster.test.ts's), stopped after every file.
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await suiteCluster();
  }, 300_000);

  test("quorum queue, kill -9 a node every 3 s (scripts/cluster): exit 0, node kills >= 1, nothing missing, every node up after", async () => {
    const env = {
      TASKQ_URL: cluster.urls.join(","),
      TASKQ_CLUSTER_NAME: cluster.name,
      TASKQ_CLUSTER_BASE: String(cluster.base),
    };
    // 10 ms tasks keep the round going past the first kill however fast the machine is (ideal: 6 s).
    const r = await runTaskq(
      [
        "bench",
        "--queue-type",
        "quorum",
        "--chaos",
        "kill-node:3s",
        "--node-control",
        CLUSTER_SCRIPT,
        "--tasks",
        "1800",
        "--work",
        "10ms",
        "--workers",
        "3",
        "--prefetch",
        "10",
        "--json",
      ],
      { env, timeoutMs: 290_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { chaos: string; queueType: string; runs: ChaosRun[] };
    expect(doc).toMatchObject({ chaos: "kill-node:3s", queueType: "quorum" });
    const run = doc.runs[0] as ChaosRun;
    console.log(
      `kill-node: ${run.tasks} tasks, ${run.kills.node} node kill(s) ${JSON.stringify(run.faults)}, ${run.redeliveries} redelivered, ${run.duplicates} duplicates, ${run.resent} re-sent`,
    );
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
  }, 300_000); // About 60 s at a load average of 15; a node's boot alone took up to 190 s at 20.

  test("quorum queue, a node frozen (SIGSTOP) 3 s in: exit 0, a freeze, nothing missing, every node running and thawed after, the failover timed from the freeze", async () => {
    // A frozen node closes no socket: the workers notice by their heartbeat. This test silences a
    // node on purpose, so it chooses its own (2 s: shorter, and scripts/test counts a missed beat
    // at the default 5 s as a false alarm). On the default, give it about 6000 tasks.
    const urls = cluster.urls.map((u) => `${u}?heartbeat=2`).join(",");
    const env = { TASKQ_URL: urls, TASKQ_CLUSTER_NAME: cluster.name, TASKQ_CLUSTER_BASE: String(cluster.base) };
    // 3600 tasks of 10 ms on 3 workers: 12 s at best, so the cut-off worker does tasks again after its heartbeat (4-6 s).
    const r = await runTaskq(
      [
        "bench",
        "--queue-type",
        "quorum",
        "--chaos",
        "freeze-node:3s",
        "--node-control",
        CLUSTER_SCRIPT,
        "--tasks",
        "3600",
        "--work",
        "10ms",
        "--workers",
        "3",
        "--prefetch",
        "10",
        "--json",
      ],
      { env, timeoutMs: 170_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const run = (JSON.parse(r.stdout) as { runs: ChaosRun[] }).runs[0] as ChaosRun;
    console.log(
      `freeze-node: ${run.tasks} tasks, ${run.freezes} freeze(s) ${JSON.stringify(run.faults)}, failover ${JSON.stringify(run.failoverMs)}, ${run.redeliveries} redelivered, ${run.duplicates} duplicates, ${run.resent} re-sent`,
    );
    expectNothingLost(run);
    expect(run.kills).toEqual({ worker: 0, node: 0 });
    expect(run.freezes).toBeGreaterThanOrEqual(1);
    for (const f of run.faults) {
      expect(f.kind).toBe("freeze");
      expect(f.back).toBeGreaterThan(f.at);
    }
    // Each worker starts on another node: one is on the frozen node, and its figure includes the
    // heartbeat's detection (a kill's figure, from the lost-connection line, is a few hundred ms).
    const failover = run.failoverMs;
    expect(failover?.workers).toBeGreaterThanOrEqual(1);
    expect(failover?.p50).toBeGreaterThan(2000);
    expect(failover?.max).toBeGreaterThanOrEqual(failover?.p50 ?? 0);
    // Thawed, answering, and still one cluster of three.
    expect(await cluster.status()).not.toContain("frozen");
    expect(await cluster.runningNodes()).toHaveLength(3);
  }, 180_000);
});
