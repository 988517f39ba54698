import { afterAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { BROKER_URL, deleteQueues, drain, queueExists, uniqueQueue, withChannel } from "../support/broker.ts";

// What the broker does that comments in src/ rely on (issue 27, item 4), each shown on the suite's
// broker with amqplib alone: no taskq code runs here.
const queues: string[] = [];
afterAll(() => deleteQueues(queues));

function queue(label: string): string {
  const name = uniqueQueue(label);
  queues.push(name);
  return name;
}

/** Runs `fn` on a confirm channel; resolves with the broker's refusal text, or "" when there was none. */
async function refusal(fn: (ch: amqp.ConfirmChannel) => Promise<unknown>): Promise<string> {
  const conn = await amqp.connect(BROKER_URL);
  try {
    const ch = await conn.createConfirmChannel();
    let closedWith = "";
    ch.on("error", (err: Error) => {
      closedWith = err.message;
    });
    await fn(ch).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50)); // a close after the answer
    return closedWith;
  } finally {
    await conn.close().catch(() => {});
  }
}

async function publishAll(name: string, bodies: string[]): Promise<void> {
  const conn = await amqp.connect(BROKER_URL);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(name, { durable: true });
    for (const body of bodies) ch.sendToQueue(name, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

describe("publishing", () => {
  test("an empty message to no queue, not mandatory, is confirmed (publish-probe.ts)", async () => {
    expect(
      await refusal(async (ch) => {
        ch.publish("", uniqueQueue("no-such-queue"), Buffer.alloc(0));
        await ch.waitForConfirms();
      }),
    ).toBe("");
  });

  test("a publish whose user id is not the login's is refused: 406 (dead-peek.ts)", async () => {
    const name = queue("user-id");
    const text = await refusal(async (ch) => {
      await ch.assertQueue(name, { durable: true });
      ch.sendToQueue(name, Buffer.from("x"), { userId: "someone-else" });
      await ch.waitForConfirms();
    });
    expect(text).toContain("406");
    expect(text).toContain("user_id property set to 'someone-else'");
  });

  // taskq keeps delays, retry levels and report expiries within 2^32 - 1 ms; the broker takes more.
  test("a message expiry and a queue's x-expires are taken up to 315,360,000,000 ms (10 years), refused past", async () => {
    const TEN_YEARS = 315_360_000_000;
    const name = queue("expiry");
    const expiry = (ms: number) =>
      refusal(async (ch) => {
        await ch.assertQueue(name, { durable: true });
        ch.sendToQueue(name, Buffer.from("x"), { expiration: String(ms) });
        await ch.waitForConfirms();
      });
    expect(await expiry(2 ** 32)).toBe("");
    expect(await expiry(TEN_YEARS)).toBe("");
    expect(await expiry(TEN_YEARS + 1)).toContain("value_too_large");
    const lease = (ms: number) => {
      const leased = queue("x-expires");
      return refusal((ch) => ch.assertQueue(leased, { durable: true, arguments: { "x-expires": ms } }));
    };
    expect(await lease(2 ** 32)).toBe("");
    expect(await lease(TEN_YEARS)).toBe("");
    expect(await lease(TEN_YEARS + 1)).toContain("invalid arg 'x-expires'");
  });
});

describe("declaring", () => {
  test("a queue name starting with amq. is refused: 403 (names.ts, bench-plan.ts)", async () => {
    expect(await refusal((ch) => ch.assertQueue("amq.taskq-test"))).toContain("reserved prefix 'amq.*'");
  });

  test("a 406 on a declare closes that channel only: the connection and its other channels go on (queues.ts)", async () => {
    const name = queue("refused-declare");
    const conn = await amqp.connect(BROKER_URL);
    try {
      const other = await conn.createChannel();
      const thrown = await conn.createChannel();
      thrown.on("error", () => {});
      await thrown.assertQueue(name, { durable: true });
      const refused = await thrown.assertQueue(name, { durable: true, arguments: { "x-max-length": 1 } }).catch(String);
      expect(refused).toContain("406");
      expect((await other.checkQueue(name)).queue).toBe(name);
      expect((await (await conn.createChannel()).checkQueue(name)).queue).toBe(name);
    } finally {
      await conn.close();
    }
  });

  test("x-queue-type classic: taken by a durable classic queue of no arguments, a 406 naming it on a quorum queue (peek-mode.ts)", async () => {
    const classic = queue("type-classic");
    const quorum = queue("type-quorum");
    await withChannel(async (ch) => {
      await ch.assertQueue(classic, { durable: true });
      await ch.assertQueue(quorum, { durable: true, arguments: { "x-queue-type": "quorum" } });
    });
    const asClassic = (name: string) =>
      refusal((ch) => ch.assertQueue(name, { durable: true, arguments: { "x-queue-type": "classic" } }));
    expect(await asClassic(classic)).toBe("");
    expect(await asClassic(quorum)).toContain("inequivalent arg 'x-queue-type'");
  });

  test("x-expires: a passive declare renews a queue's lease, a publish does not (names.ts, hop-queues.ts)", async () => {
    const renewed = queue("lease-passive");
    const published = queue("lease-publish");
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const conn = await amqp.connect(BROKER_URL);
    try {
      const ch = await conn.createConfirmChannel();
      for (const name of [renewed, published])
        await ch.assertQueue(name, { durable: true, arguments: { "x-expires": 1500 } });
      for (let i = 0; i < 8; i++) {
        await sleep(500);
        await ch.checkQueue(renewed);
        ch.sendToQueue(published, Buffer.from(`t-${i}`), { persistent: true });
        await ch.waitForConfirms();
      }
      const check = await conn.createChannel();
      check.on("error", () => {});
      expect(
        await check.checkQueue(published).then(
          () => "there",
          () => "gone",
        ),
      ).toBe("gone");
    } finally {
      await conn.close();
    }
    await sleep(3000);
    expect(await queueExists(renewed)).toBe(false); // idle past its lease: gone
  }, 20_000);
});

describe("unacked deliveries", () => {
  test("a channel's close gives its unacked deliveries back in their order; an acked one is gone (dead-peek.ts)", async () => {
    const name = queue("close-order");
    await publishAll(name, ["t-1", "t-2", "t-3", "t-4", "t-5"]);
    await withChannel(async (ch) => {
      const got: amqp.GetMessage[] = [];
      for (let i = 0; i < 3; i++) {
        const msg = await ch.get(name, { noAck: false });
        if (msg) got.push(msg);
      }
      expect(got.map((m) => m.content.toString())).toEqual(["t-1", "t-2", "t-3"]);
      ch.ack(got[1] as amqp.GetMessage);
      await ch.checkQueue(name); // a round trip: the ack is handled
      await ch.close();
    });
    expect((await drain(name)).map((m) => m.content.toString())).toEqual(["t-1", "t-3", "t-4", "t-5"]);
  });

  test("queue.purge deletes the ready tasks only: one held unacked stays (queue-purge.ts)", async () => {
    const name = queue("purge");
    await publishAll(name, ["a", "b", "c"]);
    await withChannel(async (ch) => {
      expect(await ch.get(name, { noAck: false })).not.toBe(false);
      expect((await ch.purgeQueue(name)).messageCount).toBe(2);
      await ch.close(); // gives the held one back
    });
    expect((await drain(name)).map((m) => m.content.toString())).toEqual(["a"]);
  });

  test("a server-named exclusive auto-delete queue goes when its consumer's channel closes (worker-reports.ts)", async () => {
    const conn = await amqp.connect(BROKER_URL);
    try {
      const ch = await conn.createChannel();
      const { queue: name } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
      await ch.consume(name, () => {}, { noAck: true });
      await ch.close();
      const check = await conn.createChannel();
      check.on("error", () => {});
      expect(
        await check.checkQueue(name).then(
          () => "there",
          () => "gone",
        ),
      ).toBe("gone");
    } finally {
      await conn.close();
    }
  });
});
