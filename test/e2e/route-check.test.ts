import { afterAll, describe, expect, test } from "bun:test";
import { TaskqError, send } from "taskq";
import { dial } from "../../src/core/broker/connection.ts";
import { Publisher } from "../../src/core/publish/publisher.ts";
import { PublishError } from "../../src/core/publish/publish-error.ts";
import { declareQueues } from "../../src/core/topology/queues.ts";
import { BROKER_URL, deleteQueues, readyCount, trackedQueues, waitFor } from "../support/broker.ts";
import { DropProxy } from "../support/proxy.ts";
import { TaskqProcess, oneLineError } from "../support/taskq.ts";

// `send` publishes one task in 128 mandatory (RouteCheck: the flag on every task cost RabbitMQ 3.10
// a message per task). A queue deleted under it must still fail it, never a silent success.

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

async function publisherOn(queue: string, every: number) {
  const broker = await dial(BROKER_URL, { name: "taskq-test-route-check", timeoutMs: 5000 });
  await declareQueues(broker, [queue]);
  return { broker, publisher: await Publisher.open(broker, { mandatoryEvery: every }) };
}

describe("the mandatory flag on one task in N, on the real broker", () => {
  test("the queue deleted after the last flagged task: flush finds it gone (the tasks after it were dropped by the broker)", async () => {
    const queue = tracked.name("route-tail");
    const { broker, publisher } = await publisherOn(queue, 128);
    try {
      for (const id of ["a", "b", "c"]) void publisher.publish(queue, Buffer.from(id), { messageId: id });
      await publisher.flush(); // confirmed and the queue checked: fine
      expect(await readyCount(queue)).toBe(3);
      await deleteQueues([queue]);
      for (const id of ["d", "e"]) void publisher.publish(queue, Buffer.from(id), { messageId: id }); // not flagged: confirmed, dropped
      const err = await publisher.flush().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).message).toBe(
        `queue '${queue}' was deleted while tasks were sent to it: the tasks sent to it since the last one it took may be lost`,
      );
    } finally {
      await broker.close();
    }
  });

  test("the queue deleted before a flagged task: it comes back and fails the publisher", async () => {
    const queue = tracked.name("route-return");
    const { broker, publisher } = await publisherOn(queue, 2);
    try {
      void publisher.publish(queue, Buffer.from("a"), { messageId: "a" }); // flagged, routed
      await publisher.flush();
      await deleteQueues([queue]);
      void publisher.publish(queue, Buffer.from("b"), { messageId: "b" }); // not flagged: dropped
      void publisher.publish(queue, Buffer.from("c"), { messageId: "c" }); // flagged: returned
      const err = await publisher.flush().catch((e: unknown) => e);
      expect((err as PublishError).kind).toBe("refused");
      expect((err as PublishError).message).toMatch(
        /^task c was unroutable: no queue '.*' took it \(deleted while tasks were sent to it\?\); the tasks sent to it since the last one it took may be lost too$/,
      );
    } finally {
      await broker.close();
    }
  });

  test("taskq send with its queue deleted mid-send: one line, exit 1", async () => {
    const queue = tracked.name("route-send");
    const send = new TaskqProcess(["send", "-q", queue, "--count", "2000000", "--quiet", "task {i}"]);
    await waitFor(async () => (await readyCount(queue).catch(() => 0)) > 2000, 30_000, "tasks in the queue");
    await deleteQueues([queue]);
    const code = await send.exited;
    expect(code).toBe(1);
    expect(oneLineError(send.stderr)).toMatch(
      /^taskq: (task \S+ was unroutable: no queue '.*' took it|queue '.*' was deleted while tasks were sent to it)/,
    );
  }, 60_000);

  test("deleted, then the connection lost before the end's check: the next connection checks before it declares the queue again", async () => {
    const queue = tracked.name("route-reconnect");
    const proxy = new DropProxy();
    await proxy.start();
    async function* tasks() {
      for (let i = 1; i <= 5; i++) yield `task ${i}`; // task 1 flagged, routed
      await waitFor(async () => (await readyCount(queue).catch(() => 0)) === 5, 10_000, "five tasks in the queue");
      await deleteQueues([queue]);
      for (let i = 6; i <= 10; i++) yield `task ${i}`; // not flagged: confirmed and dropped
      await Bun.sleep(300); // their confirms in
      proxy.drop();
      await Bun.sleep(100);
      yield "task 11"; // onto the dead connection: the send reconnects
    }
    try {
      const err = await send({
        url: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
        queue,
        tasks: tasks(),
        reconnectTimeoutMs: 10_000,
      }).catch((e: unknown) => e);
      // Declaring the queue again first would have made a fresh one and counted tasks 6-10 as sent.
      expect(err).toBeInstanceOf(TaskqError);
      expect((err as Error).message).toBe(
        `queue '${queue}' was deleted while tasks were sent to it: the tasks sent to it since the last one it took may be lost`,
      );
    } finally {
      proxy.stop();
    }
  }, 60_000);
});
