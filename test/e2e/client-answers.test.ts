import { afterAll, beforeAll, expect, test } from "bun:test";
import { type SendEvent, TaskqError, connect } from "taskq";
import { dial, whileUp } from "../../src/core/broker/connection.ts";
import { BROKER_URL, drain, uniqueQueue } from "../support/broker.ts";
import { versionBroker } from "../support/versions.ts";

// Each task's own answer (issue 28 review): a nack, a refusal or a closed channel fails that task alone. A 4.3 broker,
// test/support/versions.ts: its max message size is 16 MiB; queues named r28-full-* hold one task and
// refuse the next (overflow reject-publish: the broker nacks it).
const node = versionBroker("4.3");

beforeAll(async () => {
  await node.up();
  await node.ctl(
    "set_policy",
    "r28full",
    "^r28-full",
    '{"max-length":1,"overflow":"reject-publish"}',
    "--apply-to",
    "queues",
  );
}, 180_000);
afterAll(() => node.ctl("clear_policy", "r28full"), 60_000);

test("a nacked task (a full queue) is rejected alone, naming its queue; the connection stays and later sends pass", async () => {
  const full = `r28-full-${uniqueQueue("nack")}`;
  const events: SendEvent[] = [];
  const q = await connect({ url: node.url, queue: uniqueQueue("nack-other"), onEvent: (e) => events.push(e) });
  try {
    await q.send("fills it", { queue: full });
    const others = Array.from({ length: 50 }, (_, i) => q.send(`other ${i}`));
    await expect(q.send("one too many", { queue: full })).rejects.toThrow(
      new RegExp(`refused it into queue '${full}' 5 times \\(nack\\): the queue is likely full`),
    );
    expect((await Promise.all(others)).length).toBe(50);
    for (let i = 0; i < 3; i++) expect((await q.send(`after ${i}`)).id).toBeString();
    expect(events.filter((e) => e.type === "disconnected")).toEqual([]);
  } finally {
    await q.close();
  }
}, 60_000);

test("a task over the max message size is rejected with the broker's reason; the others on its channel are confirmed", async () => {
  const queue = uniqueQueue("poison");
  const q = await connect({ url: node.url, queue });
  try {
    const results = await Promise.allSettled([
      ...Array.from({ length: 5 }, (_, i) => q.send(`before ${i}`)),
      q.send(Buffer.alloc(17 * 1024 * 1024, 120)),
      ...Array.from({ length: 5 }, (_, i) => q.send(`after ${i}`)),
    ]);
    const rejected = results.flatMap((r, i) => (r.status === "rejected" ? [[i, String(r.reason)]] : []));
    expect(rejected).toEqual([[5, expect.stringMatching(/larger than the broker's max message size/)]]);
    expect((await drain(queue, node.url)).length).toBe(10);
  } finally {
    await q.close();
  }
}, 60_000);

test("work pending on a connection closed on purpose ends with a retryable loss, never waits for ever", async () => {
  const broker = await dial(BROKER_URL, { timeoutMs: 5000 });
  const never = new Promise<never>(() => {});
  const outcome = (work: Promise<unknown>) =>
    work.then(
      () => "resolved",
      (e: Error) => e.message,
    );
  const pending = outcome(whileUp(broker, never));
  await broker.close();
  expect(await pending).toMatch(/closed by taskq/);
  expect(await outcome(whileUp(broker, never))).toMatch(/closed by taskq/);
}, 30_000);

test("queueType other than classic or quorum is a usage error before connecting", async () => {
  // port 1: nothing listens there, so an attempt to connect would fail otherwise
  const opening = connect({ url: "amqp://127.0.0.1:1", queueType: "quorom" as never });
  await expect(opening).rejects.toThrow(TaskqError);
  await expect(opening).rejects.toThrow(`queueType must be 'classic' or 'quorum', got "quorom"`);
}, 30_000);
