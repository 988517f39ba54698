import { describe, expect, test } from "bun:test";
import * as amqp from "amqplib";
import {
  isChannelClosed,
  isFieldUnencodable,
  isHandshakeClosed,
  isHeartbeatTimeout,
  isOpenRefused,
} from "../../src/core/broker/amqplib.ts";
import { BROKER_URL, uniqueQueue, withChannel } from "../support/broker.ts";
import { DropProxy } from "../support/proxy.ts";

// taskq tells some failures apart by amqplib's own texts (src/core/broker/amqplib.ts). Each is
// produced here by the real amqplib, against the real broker, so an amqplib that changes one
// fails this file, not a user's run.

describe("the amqplib texts taskq relies on, as amqplib writes them", () => {
  test("field unencodable: a queue name past 255 bytes, refused before a byte is written", async () => {
    const err = await withChannel(async (ch) => {
      const caught = await Promise.resolve()
        .then(() => ch.assertQueue("q".repeat(256)))
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      return caught;
    });
    expect(err).toBeInstanceOf(Error);
    expect(isFieldUnencodable(String(err?.message))).toBe(true);
  });

  test("heartbeat timeout: the connection's close error after two silent intervals", async () => {
    const proxy = new DropProxy();
    await proxy.start();
    try {
      const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${proxy.port}?heartbeat=1`);
      conn.on("error", () => {});
      const closed = new Promise<Error | undefined>((resolve) => conn.on("close", resolve));
      proxy.blackhole();
      const err = await closed;
      expect(err).toBeInstanceOf(Error);
      expect(isHeartbeatTimeout(err as Error)).toBe(true);
    } finally {
      proxy.stop();
    }
  }, 20_000);

  test("channel closed: a confirm callback's error when its connection goes before the broker answered", async () => {
    const queue = uniqueQueue("texts-closed");
    const conn = await amqp.connect(BROKER_URL);
    conn.on("error", () => {});
    const channel = await conn.createConfirmChannel();
    channel.on("error", () => {});
    await channel.assertQueue(queue, { exclusive: true }); // gone with the connection (RabbitMQ 4 deprecates transient non-exclusive queues)
    const errors: unknown[] = [];
    for (let i = 0; i < 2000; i++) channel.sendToQueue(queue, Buffer.from("x"), {}, (err) => err && errors.push(err));
    (conn as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy();
    await Bun.sleep(200);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every(isChannelClosed)).toBe(true);
    await withChannel((ch) => ch.deleteQueue(queue));
  });

  test("handshake closed: the socket ended while the AMQP handshake was under way", async () => {
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { open: (s) => void s.end(), data: () => {} },
    });
    try {
      const err = (await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}`).catch((e: unknown) => e)) as Error;
      expect(isHandshakeClosed(err.message)).toBe(true);
    } finally {
      server.stop(true);
    }
  });

  test("open refused: a vhost the broker will not open", async () => {
    const err = (await amqp
      .connect(`${BROKER_URL.replace(/\/$/, "")}/no-such-vhost-${Date.now()}`)
      .catch((e: unknown) => e)) as Error;
    expect(isOpenRefused(err.message)).toBe(true);
  });
});
