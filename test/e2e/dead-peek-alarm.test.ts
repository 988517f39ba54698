import { afterAll, beforeAll, expect, test } from "bun:test";
import { IsolatedNode, freePort } from "../support/node.ts";
import { brokerCounts, uniqueQueue, waitFor, withChannel } from "../support/broker.ts";
import { runTaskq } from "../support/taskq.ts";

// A look at a quorum dead queue before RabbitMQ 4.3 moves its tasks round (dead-peek.ts): during a
// memory alarm it must say so at once, take nothing, and leave the queue as it was (it hung for the
// whole alarm, and a look cut there left a task twice).
const node = new IsolatedNode("peek-alarm", freePort(59));
const { raiseMemoryAlarm: raise, clearMemoryAlarm: clear, memoryAlarmOn: alarmOn } = node;

beforeAll(() => node.start(), 120_000);
afterAll(async () => {
  await clear().catch(() => "");
  await node.wipe();
}, 60_000);

async function deadBodies(dead: string): Promise<string[]> {
  return withChannel(async (ch) => {
    const bodies: string[] = [];
    for (let m = await ch.get(dead, { noAck: false }); m !== false; m = await ch.get(dead, { noAck: false }))
      bodies.push(m.content.toString());
    return bodies; // unacked: the close gives them back (this look's own count does not matter here)
  }, node.url);
}

test("during a memory alarm, dead list fails in one line and status says why it did not sample; the queue stays as it was", async () => {
  const queue = uniqueQueue("peek-alarm");
  const dead = `${queue}.dead`;
  const quorum = { durable: true, arguments: { "x-queue-type": "quorum" } };
  await withChannel((ch) => ch.assertQueue(queue, quorum), node.url);
  const env = { TASKQ_URL: node.url };
  // Five tasks in the dead queue, confirmed (taskq send declares it as a quorum queue, as taskq does).
  expect(
    (await runTaskq(["send", "-q", dead, "--queue-type", "quorum", "d-1", "d-2", "d-3", "d-4", "d-5"], { env })).code,
  ).toBe(0);
  await waitFor(async () => (await brokerCounts(dead, node.nodeName)).ready === 5, 10_000, "5 dead tasks");
  try {
    await raise();
    await waitFor(alarmOn, 20_000, "the memory alarm");
    const started = Date.now();
    const list = await runTaskq(["dead", "list", "-q", queue], { env });
    expect(list.code).not.toBe(0);
    expect(list.stderr.trim().split("\n")).toHaveLength(1);
    expect(list.stderr).toContain("not taking publishes");
    const status = await runTaskq(["status", "-q", queue, "--no-management"], { env });
    expect(status.stdout).toContain("dead tasks not sampled");
    expect(Date.now() - started).toBeLessThan(20_000);
  } finally {
    await clear();
  }
  expect(await deadBodies(dead)).toEqual(["d-1", "d-2", "d-3", "d-4", "d-5"]);
}, 120_000);
