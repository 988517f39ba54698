import { describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { AMQPLIB_TABLE_BYTES, tableBytes } from "../../../../src/core/failures/header-bytes.ts";
import { BROKER_URL } from "../../../support/broker.ts";

/**
 * Publishes one task whose headers table takes `bytes` on a connection of `frameMax` (undefined:
 * amqplib's default, RabbitMQ's 131,072) to an exclusive queue: "confirmed", or why it failed.
 */
async function publishHeaders(bytes: number, frameMax?: number): Promise<string> {
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
      channel.publish("", queue, Buffer.from("x"), { headers }, (err) => resolve(err ? String(err) : "confirmed")),
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
});
