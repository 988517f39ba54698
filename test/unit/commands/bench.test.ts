import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { FREEZE_HOLD_MS } from "../../../src/bench/chaos.ts";
import { planBench } from "../../../src/commands/bench-plan.ts";
import { expectUsageError } from "../usage-error.ts";

type BenchFlags = Parameters<typeof planBench>[0];
const URLS = [
  "amqp://guest:guest@127.0.0.1:5701",
  "amqp://guest:guest@127.0.0.1:5702",
  "amqp://guest:guest@127.0.0.1:5703",
];
const base: BenchFlags = {
  url: URLS,
  connectTimeout: 5000,
  workers: 4,
  tasks: 100,
  work: "0",
  prefetch: "1",
  rounds: 1,
  seed: 1,
  stall: 30_000,
};
// Any executable will do: the plan only checks that it can be run.
const CLUSTER = join(import.meta.dir, "..", "..", "..", "scripts", "broker");

describe("planBench: queue type and reconnect timeout", () => {
  test("defaults: a classic queue, workers told a 2m reconnect timeout, no chaos", () => {
    const plan = planBench(base);
    expect(plan.queueType).toBe("classic");
    expect(plan.reconnectTimeoutMs).toBe(120_000);
    expect(plan.workerArgs).toEqual(["--connect-timeout", "5000", "--reconnect-timeout", "120000"]);
    expect(plan.chaos).toBeNull();
  });

  test("under freeze-node a worker's first connection gets the reconnect timeout: a frozen node takes a whole attempt", () => {
    const plan = planBench({ ...base, chaos: "freeze-node:10s", nodeControl: CLUSTER, queueType: "quorum" });
    expect(plan.workerArgs.slice(0, 4)).toEqual(["--connect-timeout", "120000", "--reconnect-timeout", "120000"]);
  });

  test("--queue-type quorum and --reconnect-timeout are carried over", () => {
    const plan = planBench({ ...base, queueType: "quorum", reconnectTimeout: 45_000 });
    expect(plan.queueType).toBe("quorum");
    expect(plan.workerArgs).toContain("45000");
  });

  test("--prefetch 1,auto,100 on a quorum queue: auto is planned there too", () => {
    expect(planBench({ ...base, queueType: "quorum", prefetch: "1,auto,100" }).prefetches).toEqual([1, "auto", 100]);
  });
});

describe("planBench: --chaos", () => {
  test.each<[string, Partial<BenchFlags>, unknown]>([
    [
      "kill-worker on one broker",
      { url: [URLS[0] as string], chaos: "kill-worker:500ms" },
      { specs: [{ kind: "kill-worker", everyMs: 500 }], text: "kill-worker:500ms", nodeControl: null },
    ],
    [
      "kill-node with --node-control and three URLs",
      { chaos: "kill-node:3s", nodeControl: CLUSTER, queueType: "quorum" },
      { specs: [{ kind: "kill-node", everyMs: 3000 }], text: "kill-node:3s", nodeControl: CLUSTER },
    ],
    [
      "both, --node-control with arguments",
      { chaos: "kill-worker:1s,kill-node:5s", nodeControl: `${CLUSTER} --quiet`, queueType: "quorum" },
      {
        specs: [
          { kind: "kill-worker", everyMs: 1000 },
          { kind: "kill-node", everyMs: 5000 },
        ],
        text: "kill-worker:1s,kill-node:5s",
        nodeControl: `${CLUSTER} --quiet`,
      },
    ],
    [
      "freeze-node with --node-control and three URLs",
      { chaos: "freeze-node:10s", nodeControl: CLUSTER, queueType: "quorum" },
      {
        specs: [{ kind: "freeze-node", everyMs: 10_000, holdMs: FREEZE_HOLD_MS }],
        text: "freeze-node:10s",
        nodeControl: CLUSTER,
      },
    ],
  ])("%s", (_name, flags, chaos) => {
    expect(planBench({ ...base, ...flags }).chaos as unknown).toEqual(chaos);
  });

  test.each<[string, Partial<BenchFlags>, string]>([
    ["kill-node without --node-control", { chaos: "kill-node:3s" }, "--chaos kill-node needs --node-control CMD"],
    [
      "kill-node with a blank --node-control",
      { chaos: "kill-node:3s", nodeControl: "  " },
      "--chaos kill-node needs --node-control CMD",
    ],
    [
      "kill-node on a single URL",
      { url: [URLS[0] as string], chaos: "kill-node:3s", nodeControl: CLUSTER, queueType: "quorum" },
      "--chaos kill-node needs the URLs of several nodes",
    ],
    [
      "kill-node on a classic queue",
      { chaos: "kill-node:3s", nodeControl: CLUSTER },
      "--chaos kill-node needs --queue-type quorum",
    ],
    [
      "kill-node with a --node-control that does not exist",
      { chaos: "kill-node:3s", nodeControl: "./no-such-cluster-script up", queueType: "quorum" },
      "command not found or not executable: ./no-such-cluster-script",
    ],
    ["--node-control without --chaos", { nodeControl: CLUSTER }, "--node-control is for --chaos kill-node"],
    [
      "--node-control with kill-worker only",
      { chaos: "kill-worker:1s", nodeControl: CLUSTER },
      "--node-control is for --chaos kill-node",
    ],
    [
      "freeze-node without --node-control",
      { chaos: "freeze-node:10s", queueType: "quorum" },
      "--chaos freeze-node needs --node-control CMD, run as 'CMD freeze N' and 'CMD thaw N'",
    ],
    [
      "freeze-node on a single URL",
      { url: [URLS[0] as string], chaos: "freeze-node:10s", nodeControl: CLUSTER, queueType: "quorum" },
      "--chaos freeze-node needs the URLs of several nodes",
    ],
    [
      "freeze-node on a classic queue",
      { chaos: "freeze-node:10s", nodeControl: CLUSTER },
      "--chaos freeze-node needs --queue-type quorum",
    ],
    [
      "freeze-node with a --node-control that does not exist",
      { chaos: "freeze-node:10s", nodeControl: "./no-such-cluster-script", queueType: "quorum" },
      "command not found or not executable: ./no-such-cluster-script",
    ],
    ["an unknown fault", { chaos: "kill-foo:1s" }, "--chaos 'kill-foo:1s': 'kill-foo' is not a fault"],
    ["a bad interval", { chaos: "kill-worker:abc" }, "--chaos 'kill-worker:abc': 'abc' is not a duration"],
  ])("rejects %s", (_name, flags, message) => {
    const error = expectUsageError(() => planBench({ ...base, ...flags }));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain("\n");
  });
});
