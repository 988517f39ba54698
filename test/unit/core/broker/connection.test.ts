import { describe, expect, test } from "bun:test";
import { ConnectError } from "../../../../src/core/broker/connect-error.ts";
import { type Broker, whileUp } from "../../../../src/core/broker/connection.ts";
import { isLost } from "../../../../src/core/broker/connect-error.ts";
import type { TaskqError } from "../../../../src/errors.ts";

/** A broker whose connection can be made to drop. */
function fakeBroker() {
  const lost = Promise.withResolvers<TaskqError>();
  const broker = { lost: lost.promise } as unknown as Broker;
  return {
    broker,
    drop: () => lost.resolve(new ConnectError("lost the connection to 127.0.0.1:5672: read ECONNRESET", "LOST")),
  };
}

describe("whileUp", () => {
  test("a call amqplib rejects while it closes the connection fails as the loss, not as the call's own error", async () => {
    const { broker, drop } = fakeBroker();
    const work = Promise.reject(new Error("Channel ended, no reply will be forthcoming"));
    const result = whileUp(broker, work);
    drop(); // amqplib says the connection closed only after it rejected what was pending
    const err = await result.catch((e: unknown) => e);
    expect(isLost(err)).toBe(true);
    expect((err as Error).message).toMatch(/lost the connection/);
  });

  test("a refusal on a live connection stays the refusal", async () => {
    const { broker } = fakeBroker();
    const refusal = new Error("Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED)");
    const err = await whileUp(broker, Promise.reject(refusal)).catch((e: unknown) => e);
    expect(err).toBe(refusal);
  });

  test("the connection lost while the call waits: the loss", async () => {
    const { broker, drop } = fakeBroker();
    const result = whileUp(broker, new Promise<never>(() => {}));
    drop();
    expect(isLost(await result.catch((e: unknown) => e))).toBe(true);
  });

  test("a call that succeeds is its value", async () => {
    const { broker } = fakeBroker();
    expect(await whileUp(broker, Promise.resolve(42))).toBe(42);
  });
});
