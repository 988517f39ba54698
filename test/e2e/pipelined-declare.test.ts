import { afterAll, expect, test } from "bun:test";
import amqp from "amqplib";
import { declarePipelined } from "../../src/core/broker/pipelined-declare.ts";
import { BROKER_URL, deleteQueues, uniqueQueue } from "../support/broker.ts";

// declarePipelined takes over amqplib's reply slot for its declares: several at once, answered in
// order, and amqplib's own calls still work after them.
const queues: string[] = [];
afterAll(() => deleteQueues(queues));

test("declares written back to back are each answered, and amqplib's own calls work after them", async () => {
  const conn = await amqp.connect(BROKER_URL);
  try {
    const ch = await conn.createConfirmChannel();
    const names = [1, 2, 3].map((i) => uniqueQueue(`pipelined-${i}`));
    queues.push(...names);
    const answers = names.map((name) => declarePipelined(ch, name, { "x-expires": 60_000 }));
    for (const [i, name] of names.entries()) ch.sendToQueue(name, Buffer.from(`task ${i}`), { persistent: true });
    await Promise.all(answers);
    await ch.waitForConfirms();
    for (const name of names) expect((await ch.checkQueue(name)).messageCount).toBe(1); // an amqplib call, answered
    await ch.close();
  } finally {
    await conn.close();
  }
});

test("a refused declare rejects its answer and every later one; the channel closes", async () => {
  const conn = await amqp.connect(BROKER_URL);
  try {
    const ch = await conn.createConfirmChannel();
    ch.on("error", () => {});
    const name = uniqueQueue("pipelined-refused");
    queues.push(name);
    await ch.assertQueue(name, { durable: true, arguments: { "x-expires": 60_000 } });
    const closed = new Promise((resolve) => ch.once("close", resolve));
    const refused = declarePipelined(ch, name, { "x-expires": 30_000 }); // 406: other arguments
    const after = declarePipelined(ch, name, { "x-expires": 60_000 });
    const [a, b] = await Promise.allSettled([refused, after]);
    expect(a?.status).toBe("rejected");
    expect(b?.status).toBe("rejected");
    await closed;
  } finally {
    await conn.close();
  }
});
