import { describe, expect, test } from "bun:test";
import type { ConfirmChannel } from "amqplib";
import { EventEmitter } from "node:events";
import { drained } from "../../../../src/core/publish/drained.ts";

describe("drained", () => {
  test.each(["drain", "close"])("resolves on '%s' and leaves no listener behind", async (event) => {
    const channel = new EventEmitter() as unknown as ConfirmChannel & EventEmitter;
    const waiting = drained(channel);
    expect(channel.listenerCount("drain") + channel.listenerCount("close")).toBe(2);
    channel.emit(event);
    await waiting;
    expect(channel.listenerCount("drain") + channel.listenerCount("close")).toBe(0);
  });
});
