import { afterAll, expect, test } from "bun:test";
import { brokerCounts, channelWidePrefetches, rabbitmqctlRows, trackedQueues, waitFor } from "../support/broker.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const globalPrefetches = (): Promise<number[]> => channelWidePrefetches();

/** The consumer's own prefetch (per consumer) of each consumer of `queue`. */
async function consumerPrefetches(queue: string): Promise<number[]> {
  const rows = await rabbitmqctlRows("list_consumers", ["queue_name", "prefetch_count"]);
  return rows.filter(([name]) => name === queue).map(([, count]) => Number(count));
}

const doneLines = (worker: TaskqProcess) => worker.lines.filter((l) => l.includes('"outcome":"done"')).length;

test("--prefetch auto: with short tasks the worker replaces its consumer with one holding a reserve (never a channel-wide limit), and does every task", async () => {
  const queue = tracked.name("auto");
  expect((await runTaskq(["send", "-q", queue, "--count", "3000", "t {i} ."])).code).toBe(0);
  const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "auto", "--dot-ms", "3", "--json"]);
  try {
    await worker.ready();
    expect(worker.stderr).toContain("(prefetch auto)");
    // concurrency 1: the consumer starts at prefetch 1, and is replaced by one with a reserve once
    // the worker has seen its tasks are short.
    await waitFor(
      async () => (await consumerPrefetches(queue)).some((p) => p > 1),
      30_000,
      "a consumer with a reserve (prefetch above 1)",
    );
    expect((await consumerPrefetches(queue)).length).toBe(1); // the old one cancelled
    expect((await globalPrefetches()).every((g) => g === 0)).toBe(true);
    await waitFor(() => doneLines(worker) === 3000, 60_000, "every task done");
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}, 120_000);

test("--prefetch auto: with long tasks the worker holds one task at a time, as prefetch 1 (none waits behind a long one)", async () => {
  const queue = tracked.name("auto-long");
  // 8 s tasks: long next to any round trip, even one of 70 ms on a loaded machine (3 s tasks were not, in a
  // suite run of two shards, each rabbitmqctl below a second of CPU on the suite's 4.3 node).
  expect((await runTaskq(["send", "-q", queue, "--count", "3", "t {i} ."])).code).toBe(0);
  const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "auto", "--dot-ms", "8000", "--json"]);
  let most = 0;
  try {
    await worker.ready();
    while (doneLines(worker) < 3) {
      const prefetches = await consumerPrefetches(queue);
      expect(prefetches.every((p) => p === 1)).toBe(true); // no reserve
      most = Math.max(most, (await brokerCounts(queue)).unacked);
      await Bun.sleep(250);
    }
    expect(most).toBe(1);
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}, 90_000);
