import { afterAll, expect, test } from "bun:test";
import { trackedQueues, waitFor } from "../support/broker.ts";
import { TaskqProcess, oneLineError, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** The channel-wide prefetch (global QoS) of every channel on the broker. */
async function globalPrefetches(): Promise<number[]> {
  const proc = Bun.spawn(["rabbitmqctl", "-q", "list_channels", "global_prefetch_count", "--no-table-headers"], { stdout: "pipe", stderr: "pipe" });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  return text.split("\n").filter((l) => l.trim() !== "").map(Number);
}

test(
  "--prefetch auto: with short tasks the worker raises its channel's prefetch to concurrency + 1, and does every task",
  async () => {
    const queue = tracked.name("auto");
    expect((await runTaskq(["send", "-q", queue, "--count", "3000", "t {i} ."])).code).toBe(0);
    const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "auto", "--dot-ms", "3", "--json"]);
    try {
      await worker.ready();
      expect(worker.stderr).toContain("(prefetch auto)");
      await waitFor(async () => (await globalPrefetches()).includes(2), 30_000, "a channel with global prefetch 2");
      await waitFor(() => worker.stdout.split("\n").filter((l) => l.includes('"outcome":"done"')).length === 3000, 60_000, "every task done");
    } finally {
      worker.kill("SIGTERM");
      await worker.exited;
    }
  },
  120_000,
);

test("--prefetch auto with --queue-type quorum is a one-line usage error", async () => {
  const r = await runTaskq(["work", "-q", "never-declared", "--queue-type", "quorum", "--prefetch", "auto"]);
  expect(r.code).toBe(2);
  expect(oneLineError(r.stderr)).toMatch(/--prefetch auto needs a classic queue/);
});
