import { afterAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { type SendEvent, TaskqError, connect, task } from "taskq";
import { drain, rabbitmqctl, trackedQueues, waitFor, withChannel } from "../support/broker.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** The connections the broker holds under `name` with this run's tag. */
async function connectionsNamed(name: string): Promise<number> {
  const rows = (await rabbitmqctl("list_connections", "client_properties", "--no-table-headers")).split("\n");
  return rows.filter((row) => row.includes(name)).length;
}

/** A tag of its own for the connections a test opens (connectionName: TASKQ_CONNECTION_TAG). */
function tagged(): string {
  const tag = `client-${randomBytes(4).toString("hex")}`;
  process.env.TASKQ_CONNECTION_TAG = tag;
  return tag;
}

test("1,000 concurrent sends on one client: all confirmed, every task in the queue once, one connection", async () => {
  const queue = tracked.name("client-burst");
  const tag = tagged();
  const q = await connect({ queue });
  try {
    const ids = await Promise.all(Array.from({ length: 1000 }, (_, i) => q.send({ i }).then((r) => r.id)));
    expect(new Set(ids).size).toBe(1000);
    expect(await connectionsNamed(`taskq library client [${tag}]`)).toBe(1);
    const more = await Promise.all(Array.from({ length: 50 }, (_, i) => q.send(`later ${i}`)));
    expect(more).toHaveLength(50);
    expect(await connectionsNamed(`taskq library client [${tag}]`)).toBe(1);
  } finally {
    await q.close();
    delete process.env.TASKQ_CONNECTION_TAG;
  }
  const got = await drain(queue);
  expect(got).toHaveLength(1050);
  expect(new Set(got.map((m) => m.properties.messageId)).size).toBe(1050);
  expect(got[0]?.properties.contentType).toBe("application/json");
});

test("a task()'s own id and headers, a send to another queue, a delayed send", async () => {
  const queue = tracked.name("client-own");
  const other = tracked.name("client-other");
  const q = await connect({ queue });
  try {
    expect(await q.send(task({ a: 1 }, { id: "mine-1", headers: { source: "t" } }))).toEqual({ id: "mine-1" });
    await q.send("to the other", { queue: other });
    tracked.also(`${queue}.delay.300`);
    await q.send("later", { delayMs: 300 });
  } finally {
    await q.close();
  }
  await waitFor(async () => (await drainKept(queue)).length === 2, 10_000, "the delayed task to arrive");
  expect((await drain(other)).map((m) => m.content.toString())).toEqual(["to the other"]);
});

const kept: Record<string, string[]> = {};
async function drainKept(queue: string): Promise<string[]> {
  kept[queue] = [...(kept[queue] ?? []), ...(await drain(queue)).map((m) => m.properties.messageId as string)];
  return kept[queue];
}

test("bad input: a one-line error, nothing sent; a send after close is refused; close waits for sends under way", async () => {
  const queue = tracked.name("client-bad");
  const q = await connect({ queue });
  await expect(q.send(undefined as never)).rejects.toThrow(/task 1 is undefined/);
  await expect(q.send("x", { delayMs: -1 })).rejects.toThrow(/delayMs must be whole milliseconds/);
  const underway = Array.from({ length: 20 }, (_, i) => q.send(`t${i}`));
  await q.close();
  expect(await Promise.all(underway)).toHaveLength(20);
  await expect(q.send("after")).rejects.toThrow(/the client is closed/);
  expect(await drain(queue)).toHaveLength(20);
  await expect(connect({ queue, blockedTimeoutMs: -5 })).rejects.toThrow(TaskqError);
});

test("a queue of the other type is used as found (said); a refused login fails connect", async () => {
  const queue = tracked.name("client-406");
  const q = await connect({ queue });
  await q.close();
  const events: SendEvent[] = [];
  // The same name as a quorum queue: found classic, so it is used as classic (said), not refused.
  const r = await connect({ queue, queueType: "quorum", onEvent: (e) => events.push(e) });
  await r.close();
  expect(events).toContainEqual({ type: "queue-type", queue, queueType: "classic" });
  await expect(connect({ url: "amqp://guest:wrong@127.0.0.1:5672", queue })).rejects.toThrow(TaskqError);
});

test("a queue deleted under the client: the task that came back rejects (unroutable), the next send declares it again", async () => {
  const queue = tracked.name("client-deleted");
  const q = await connect({ queue });
  try {
    await q.send("before");
    await withChannel((ch) => ch.deleteQueue(queue));
    await expect(q.send("lost")).rejects.toThrow(/was unroutable: no queue .* took it/);
    await q.send("after");
  } finally {
    await q.close();
  }
  expect((await drain(queue)).map((m) => m.content.toString())).toEqual(["after"]);
});
