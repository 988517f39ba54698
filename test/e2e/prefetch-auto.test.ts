import { afterAll, expect, test } from "bun:test";
import { rabbitmqctlRows, trackedQueues, waitFor } from "../support/broker.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** Every channel on the broker: its channel-wide prefetch (global QoS) and its unacked deliveries. */
async function channels(): Promise<Array<{ global: number; unacked: number }>> {
  const rows = await rabbitmqctlRows("list_channels", ["global_prefetch_count", "messages_unacknowledged"]);
  return rows.map(([global, unacked]) => ({ global: Number(global ?? -1), unacked: Number(unacked ?? -1) }));
}

/** The consumer's own prefetch (per consumer) of each consumer of `queue`. */
async function consumerPrefetches(queue: string): Promise<number[]> {
  const rows = await rabbitmqctlRows("list_consumers", ["queue_name", "prefetch_count"]);
  return rows.filter(([name]) => name === queue).map(([, count]) => Number(count));
}

const doneLines = (worker: TaskqProcess) => worker.lines.filter((l) => l.includes('"outcome":"done"')).length;

test("--prefetch auto: with short tasks the worker keeps one in reserve (its consumer's own prefetch, the channel's limit lifted), and does every task", async () => {
  const queue = tracked.name("auto");
  expect((await runTaskq(["send", "-q", queue, "--count", "3000", "t {i} ."])).code).toBe(0);
  const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "auto", "--dot-ms", "3", "--json"]);
  try {
    await worker.ready();
    expect(worker.stderr).toContain("(prefetch auto)");
    // concurrency 1: the consumer's own prefetch is 2; a channel-wide limit of 1 takes the
    // reserve away until the worker has seen its tasks are short, then it is lifted (0).
    expect(await consumerPrefetches(queue)).toEqual([2]);
    await waitFor(
      async () => (await channels()).some((c) => c.global === 0 && c.unacked === 2),
      30_000,
      "a channel holding 2 tasks with no channel-wide limit",
    );
    await waitFor(() => doneLines(worker) === 3000, 60_000, "every task done");
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}, 120_000);

test("--prefetch auto: with long tasks the worker holds one task at a time, as prefetch 1 (none waits behind a long one)", async () => {
  const queue = tracked.name("auto-long");
  expect((await runTaskq(["send", "-q", queue, "--count", "5", "t {i} ."])).code).toBe(0);
  const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "auto", "--dot-ms", "400", "--json"]);
  let most = 0;
  try {
    await worker.ready();
    while (doneLines(worker) < 5) {
      const ours = (await channels()).filter((c) => c.global === 1);
      for (const c of ours) most = Math.max(most, c.unacked);
      expect(ours.length).toBe(1); // the channel-wide limit stays on: no reserve
      await Bun.sleep(50);
    }
    expect(most).toBe(1);
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}, 60_000);
