import { expect, test } from "bun:test";
import { dial } from "../../src/core/broker/connection.ts";
import { declareQueues } from "../../src/core/topology/queues.ts";
import { BROKER_URL } from "../support/broker.ts";

// A queue's errors say where they come from: a name amqplib cannot encode (past 255 bytes; core's
// own API, the library and the CLI refuse it sooner) never reached the broker, so it is not "the
// broker refused".

test("a 300-byte queue name: amqplib's refusal, not the broker's", async () => {
  const broker = await dial(BROKER_URL, { name: "taskq-test-queue-error-words", timeoutMs: 5000 });
  try {
    const err = await declareQueues(broker, ["q".repeat(300)]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toStartWith(`queue '${"q".repeat(300)}' was not declared: amqplib refused it (`);
    expect(err?.message).toContain("Field 'queue' is the wrong type");
    expect(err?.message).not.toContain("the broker refused");
  } finally {
    await broker.close();
  }
});
