import { afterAll, expect, test } from "bun:test";
import {
  brokerCounts,
  channelWidePrefetches,
  rabbitmqctlRows,
  trackedQueues,
  waitFor,
  withChannel,
} from "../support/broker.ts";
import { Consumer } from "../../src/core/worker/consumer.ts";
import { TaskqProcess, jsonLines, missingSent, runTaskq } from "../support/taskq.ts";

// --prefetch auto on a quorum queue (a single node holds quorum queues): the prefetch changes by a
// new consumer on the same channel, never a channel-wide limit (a quorum queue refuses one).
const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** The consumers of `queue` now: tag and own prefetch. */
async function consumers(queue: string): Promise<Array<{ tag: string; prefetch: number }>> {
  const rows = await rabbitmqctlRows("list_consumers", ["queue_name", "consumer_tag", "prefetch_count"]);
  return rows.filter(([name]) => name === queue).map(([, tag, count]) => ({ tag: tag ?? "", prefetch: Number(count) }));
}

const globalPrefetches = (): Promise<number[]> => channelWidePrefetches();

const doneIds = (worker: TaskqProcess) =>
  jsonLines<{ id: string; outcome: string }>(worker.stdout)
    .filter((l) => l.outcome === "done")
    .map((l) => l.id);
const switches = (worker: TaskqProcess) => (worker.stderr.match(/ \[\.\] prefetch \d+/g) ?? []).length;

async function send(queue: string, count: number, body: string): Promise<void> {
  expect((await runTaskq(["send", "-q", queue, "--queue-type", "quorum", "--count", String(count), body])).code).toBe(
    0,
  );
}

const work = (queue: string, ...args: string[]) =>
  new TaskqProcess([
    "work",
    "-q",
    queue,
    "--queue-type",
    "quorum",
    "--prefetch",
    "auto",
    "--dot-ms",
    "1",
    "--json",
    "-v",
    ...args,
  ]);

test("zero-work tasks: the worker replaces its consumer with one holding a reserve (no channel-wide limit) and does every task once", async () => {
  const queue = tracked.name("auto-quorum");
  await send(queue, 3000, "t {i}");
  const worker = work(queue);
  try {
    await worker.ready();
    expect(worker.stderr).toContain("(prefetch auto)");
    // Starts at --concurrency (1); short tasks: the most a replaced consumer holds (1 + 8).
    await waitFor(
      async () => (await consumers(queue)).some((c) => c.prefetch === 9),
      30_000,
      "a consumer with prefetch 9",
    );
    expect((await consumers(queue)).length).toBe(1); // the old one cancelled
    expect((await globalPrefetches()).every((g) => g === 0)).toBe(true);
    await waitFor(() => doneIds(worker).length >= 3000, 60_000, "every task done");
    expect(switches(worker)).toBeGreaterThanOrEqual(1);
    const ids = doneIds(worker);
    expect(missingSent(ids, 3000)).toEqual([]);
    expect(ids.length).toBe(3000); // none twice
    await waitFor(
      async () => {
        const c = await brokerCounts(queue);
        return c.ready === 0 && c.unacked === 0;
      },
      15_000,
      "nothing left ready or unacked",
    );
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}, 120_000);

test("tasks that turn long and short again: the consumer is replaced each way; nothing lost, nothing run twice", async () => {
  const queue = tracked.name("auto-quorum-switch");
  // Zero work, then 40 ms tasks (40 dots at 1 ms), then zero work: the reserve shrinks, then grows.
  await send(queue, 200, "a {i}");
  await send(queue, 60, `b {i} ${".".repeat(40)}`);
  await send(queue, 200, "c {i}");
  const worker = work(queue, "-c", "2");
  try {
    await worker.ready();
    await waitFor(() => doneIds(worker).length >= 460, 60_000, "every task done");
    const changes = [...worker.stderr.matchAll(/ \[\.\] prefetch (\d+)/g)].map((m) => Number(m[1]));
    // Seen: 3,6,10,9,2,3,6,10 (-c 2: up to 8 in reserve on zero work, 0 or 1 on 40 ms tasks).
    const top = changes.indexOf(10);
    expect(top).toBeGreaterThanOrEqual(0);
    const low = changes.findIndex((c, i) => i > top && c <= 3);
    expect(low).toBeGreaterThan(top);
    expect(changes.at(-1)).toBe(10);
    const ids = doneIds(worker);
    expect(ids.length).toBe(460);
    expect(new Set(ids).size).toBe(460);
    await waitFor(
      async () => {
        const c = await brokerCounts(queue);
        return c.ready === 0 && c.unacked === 0;
      },
      15_000,
      "nothing left ready or unacked",
    );
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}, 120_000);

test("a stop with replaced consumers behind it: what was delivered and not started goes back, another worker does it; every task done exactly once", async () => {
  const queue = tracked.name("auto-quorum-stop");
  await send(queue, 400, "t {i} ..");
  const first = work(queue, "-c", "2");
  await first.ready();
  await waitFor(() => switches(first) >= 1 && doneIds(first).length >= 50, 30_000, "a switch and some tasks done");
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  const second = work(queue);
  try {
    await second.ready();
    await waitFor(
      () => doneIds(first).length + doneIds(second).length >= 400,
      60_000,
      "the rest done by the second worker",
    );
    const ids = [...doneIds(first), ...doneIds(second)];
    expect(missingSent(ids, 400)).toEqual([]);
    expect(ids.length).toBe(400);
  } finally {
    second.kill("SIGTERM");
    await second.exited;
  }
}, 120_000);

test("replaced consumers are not kept by amqplib for the channel's life: at most the last one besides the live one", async () => {
  const queue = tracked.name("auto-quorum-kept");
  await withChannel(async (ch) => {
    await ch.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    const hush = { hush: async () => {}, release: () => {} };
    const consumer = new Consumer(
      ch,
      queue,
      1,
      () => {},
      () => {},
      hush,
    );
    await consumer.start();
    for (let i = 0; i < 50; i++) consumer.replace(1 + (i % 9));
    await (consumer as unknown as { chain: Promise<void> }).chain;
    // amqplib's own map of tags: 51 before (one per switch, never dropped).
    expect((ch as unknown as { consumers: Map<string, unknown> }).consumers.size).toBe(2);
    expect((await consumers(queue)).length).toBe(1);
    await consumer.cancel();
  });
});
