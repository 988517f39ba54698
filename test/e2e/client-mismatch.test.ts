import { afterAll, expect, test } from "bun:test";
import { connect, send } from "taskq";
import { trackedQueues, withChannel } from "../support/broker.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

// A quorum queue declared with an argument taskq does not set: the type is not the difference to name.
test.each(["classic", "quorum"] as const)(
  "a quorum queue with x-message-ttl, asked as %s: the one line names x-message-ttl on the first try",
  async (queueType) => {
    const queue = tracked.name(`mismatch-${queueType}`);
    await withChannel((ch) =>
      ch.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum", "x-message-ttl": 60_000 } }),
    );
    const err = (await send({ queue, queueType, tasks: ["x"] }).catch((e: Error) => e)) as Error;
    expect(err.message).toContain("x-message-ttl");
    expect(err.message).not.toContain("x-queue-type");
    expect(err.message).toContain("taskq declares it as a durable quorum queue");
    expect(err.message.split("\n")).toHaveLength(1);
    await expect(connect({ queue, queueType })).rejects.toThrow(/x-message-ttl/);
  },
);
