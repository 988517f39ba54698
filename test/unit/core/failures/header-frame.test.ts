import { describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { AMQPLIB_TABLE_BYTES, headerTableLimit, tableBytes } from "../../../../src/core/failures/header-bytes.ts";
import { BROKER_URL } from "../../../support/broker.ts";

/**
 * Publishes one task whose headers table takes `bytes` on a connection of `frameMax` (undefined:
 * amqplib's default, RabbitMQ's 131,072) to an exclusive queue: "confirmed", or why it failed.
 */
async function publishHeaders(
  bytes: number,
  frameMax?: number,
  properties: amqp.Options.Publish = {},
): Promise<string> {
  const url = new URL(BROKER_URL);
  if (frameMax !== undefined) url.searchParams.set("frameMax", String(frameMax));
  const connection = await amqp.connect(url.toString());
  const closed = new Promise<string>((resolve) => {
    connection.on("error", (err: Error) => resolve(err.message));
    connection.on("close", (err?: Error) => resolve(err?.message ?? "closed"));
  });
  try {
    const channel = await connection.createConfirmChannel();
    channel.on("error", () => {});
    const { queue } = await channel.assertQueue("", { exclusive: true });
    const headers = { big: "" };
    headers.big = "b".repeat(bytes - tableBytes(headers));
    expect(tableBytes(headers)).toBe(bytes);
    const confirmed = new Promise<string>((resolve) =>
      channel.publish("", queue, Buffer.from("x"), { ...properties, headers }, (err) =>
        resolve(err ? String(err) : "confirmed"),
      ),
    );
    return await Promise.race([confirmed, closed]);
  } finally {
    await connection.close().catch(() => {});
  }
}

describe("header-bytes.ts: which limit binds a task's headers on RabbitMQ", () => {
  test("at the default frame_max (131,072) amqplib's table of AMQPLIB_TABLE_BYTES binds: the broker takes it", async () => {
    expect(await publishHeaders(AMQPLIB_TABLE_BYTES)).toBe("confirmed");
  });

  test("a lower ?frameMax binds first: the broker closes the connection on a header frame past it (501)", async () => {
    expect(await publishHeaders(8192, 8192)).toMatch(/501 \(FRAME-ERROR\).*frame_too_large/);
  });

  test("headerTableLimit(frameMax) fits the frame with every other property at its longest: the broker takes it", async () => {
    const long = "p".repeat(255);
    const properties: amqp.Options.Publish = {
      contentType: long,
      contentEncoding: long,
      correlationId: long,
      replyTo: long,
      expiration: "60000", // the broker checks it is a number; user id must be the login
      messageId: long,
      type: long,
      appId: long,
      deliveryMode: 2,
      priority: 1,
      timestamp: 1,
    };
    expect(headerTableLimit(8192)).toBe(5600);
    expect(await publishHeaders(headerTableLimit(8192), 8192, properties)).toBe("confirmed");
    // past the frame with them (user and cluster id left out, the expiration short: 762 bytes of slack)
    expect(await publishHeaders(headerTableLimit(8192) + 1500, 8192, properties)).toMatch(/frame_too_large/);
    expect(headerTableLimit(131_072)).toBe(AMQPLIB_TABLE_BYTES);
    expect(headerTableLimit(0xffffffff)).toBe(AMQPLIB_TABLE_BYTES);
  });
});
