import { expect, test } from "bun:test";
import { planBench } from "../../../src/commands/bench-plan.ts";
import { DEFAULT_RATE_DURATION_MS, DEFAULT_RATE_WARMUP_MS } from "../../../src/commands/bench-rate-plan.ts";
import { rateTable } from "../../../src/bench/rate-report.ts";

type BenchFlags = Parameters<typeof planBench>[0];
const base: BenchFlags = {
  url: ["amqp://guest:guest@127.0.0.1:5672"],
  connectTimeout: 5000,
  workers: 4,
  tasks: 2000,
  work: "mix:90%5ms,10%50ms",
  prefetch: "1,100",
  rounds: 1,
  seed: 1,
  stall: 30_000,
  rateDuration: DEFAULT_RATE_DURATION_MS,
  rateWarmup: DEFAULT_RATE_WARMUP_MS,
};

test.each([
  [undefined, "taskq-bench"],
  ["team-a.bench", "team-a.bench"],
  ["x:y_z-1", "x:y_z-1"],
])("--queue-prefix %s: the rounds' queues start with %s", (given, prefix) => {
  expect(planBench(given === undefined ? base : { ...base, queuePrefix: given }).queuePrefix).toBe(prefix);
});

test.each([
  ["", "--queue-prefix '': 1 to 200 letters, digits and _ . : -"],
  ["a b", "--queue-prefix 'a b': 1 to 200 letters"],
  ["amq.bench", "--queue-prefix 'amq.bench': names starting with 'amq.' are reserved by the broker"],
])("--queue-prefix %j: a usage error", (given, message) => {
  expect(() => planBench({ ...base, queuePrefix: given })).toThrow(message);
});

test("the --rate report names the broker's version", () => {
  const rate = {
    workers: 1,
    prefetch: 1,
    work: "5ms",
    seed: 1,
    queueType: "classic",
    warmupMs: 1000,
    durationMs: 5000,
  };
  expect(rateTable([], { ...rate, broker: "RabbitMQ 4.3.6" }).split("\n")[0]).toContain(", RabbitMQ 4.3.6, seed 1;");
});
