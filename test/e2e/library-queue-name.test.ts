import { describe, expect, test } from "bun:test";
import { TaskqError, connect, send, work } from "taskq";
import { ExitCode } from "../../src/errors.ts";

// The library takes a queue name by the CLI's one rule (core/topology/names.ts), before connecting:
// a 239-255-byte name was taken and its first failed task's retry copy ('.retry.1000': over 255
// bytes) retried for ever, holding its slot; "" consumed a server-named amq.gen-* queue nobody sends
// to, or connected and then refused every send. Each is now one usage error naming the `queue` option.

const long = (bytes: number) => `lib-qn-${process.pid}-`.padEnd(bytes, "z");

/** The usage error `run` rejects with (it must reject before any connection is made). */
async function refusal(run: () => Promise<unknown>): Promise<TaskqError> {
  const err = await run().then(
    (value) => {
      // old code: a worker or client was made; stop it so the failure is the assertion, not a leak
      const held = value as { stop?: () => Promise<unknown>; close?: () => Promise<unknown> };
      return Promise.resolve(held.stop?.() ?? held.close?.()).then(() => new Error("resolved"));
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TaskqError);
  expect((err as TaskqError).exitCode).toBe(ExitCode.usage);
  return err as TaskqError;
}

const never = async () => {};

describe("the library's queue option follows the one queue-name rule", () => {
  test.each([
    [
      "",
      "queue option: a queue name is 1 to 238 bytes long (taskq adds up to 17 for its retry, delay and dead queues), got 0.",
    ],
    [long(239), "got 239"],
    [long(250), "got 250"],
    [long(300), "got 300"],
    ["amq.x", "queue option: names starting with 'amq.' are reserved by the broker; use another queue option."],
  ])("work({ queue: %p }) is refused before connecting", async (queue, words) => {
    const err = await refusal(() => work({ queue, reportEveryMs: 0 }, never));
    expect(err.message).toContain(words);
    expect(err.message).not.toContain("--queue");
  });

  test.each([[""], [long(250)], ["amq.x"]])("send({ queue: %p }) is refused before connecting", async (queue) => {
    const err = await refusal(() => send({ queue, tasks: ["t"] }));
    expect(err.message).toStartWith("queue option: ");
    expect(err.message).not.toContain("--queue");
  });

  test.each([[""], [long(250)], ["amq.x"]])("connect({ queue: %p }) is refused before connecting", async (queue) => {
    const err = await refusal(() => connect({ queue }));
    expect(err.message).toStartWith("queue option: ");
    expect(err.message).not.toContain("--queue");
    expect(err.message).not.toContain("broker refused");
  });

  test("a client's send to a bad queue of its own is refused, and the client goes on", async () => {
    const q = await connect({ queue: long(238) });
    try {
      for (const queue of ["", long(250), "amq.x"]) {
        const err = await refusal(() => q.send("t", { queue }));
        expect(err.message).toStartWith("send's queue option: ");
      }
      expect((await q.send("fine")).id).toBeString();
    } finally {
      await q.close();
      const { withChannel } = await import("../support/broker.ts");
      await withChannel((ch) => ch.deleteQueue(long(238)));
    }
  });
});
