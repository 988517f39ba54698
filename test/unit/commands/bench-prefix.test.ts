import { expect, test } from "bun:test";
import { planBench } from "../../../src/commands/bench-plan.ts";
import { benchFlags } from "./bench-flags.ts";
import { rateTable } from "../../../src/bench/rate-report.ts";

const base = benchFlags;

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
