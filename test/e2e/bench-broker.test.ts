import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { rabbitmqctl } from "../support/broker.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

test("bench --queue-prefix: the round's queue is <prefix>-<hex>; the JSON and the table name the broker's version", async () => {
  const prefix = `team-${randomBytes(3).toString("hex")}.bench`;
  const bench = new TaskqProcess(
    ["bench", "-n", "200", "-w", "1", "--work", "50ms", "--prefetch", "1", "--queue-prefix", prefix, "--json"],
    {},
  );
  const seen = new Set<string>();
  while (bench.proc.exitCode === null) {
    for (const name of (await rabbitmqctl("list_queues", "name", "--no-table-headers")).split("\n"))
      if (name.startsWith(prefix) || name.startsWith("taskq-bench-")) seen.add(name.replace(/-[0-9a-f]{8}$/, "-<hex>"));
    await Bun.sleep(100);
  }
  expect(await bench.exited).toBe(0);
  expect([...seen]).toContain(`${prefix}-<hex>`);
  const json = JSON.parse(bench.stdout) as { broker: string };
  expect(json.broker).toMatch(/^RabbitMQ \d+\.\d+\.\d+/);
  const table = await runTaskq(["bench", "-n", "5", "-w", "1", "--work", "1ms", "--prefetch", "1", "--quiet"]);
  expect(table.code).toBe(0);
  expect(table.stdout.split("\n")[0]).toEndWith(`; ${json.broker}`);
}, 120_000);
