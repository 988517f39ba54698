import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import type { Broker } from "../../../../src/core/broker/connection.ts";
import { Reconnector } from "../../../../src/core/broker/reconnector.ts";
import { sendTasks } from "../../../../src/core/publish/send-tasks.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";

/** A confirm channel that answers each publish (its n-th on this connection) as `answer(n)` says. */
class FakeConfirmChannel extends EventEmitter {
  private n = 0;
  constructor(private readonly answer: (n: number) => "ack" | "nack") {
    super();
  }
  sendToQueue(_queue: string, _body: Buffer, _options: unknown, cb: (err: unknown) => void): boolean {
    const verdict = this.answer(++this.n);
    queueMicrotask(() => cb(verdict === "ack" ? null : new Error("message nacked")));
    return true;
  }
  async close() {}
}

/** The throwaway channel of declares and passive checks: every queue is there. */
class FakeDeclareChannel extends EventEmitter {
  async assertQueue(queue: string) {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  async checkQueue(queue: string) {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  async close() {}
}

function fakeBroker(answer: (n: number) => "ack" | "nack"): Broker {
  const model = Object.assign(new EventEmitter(), {
    createChannel: async () => new FakeDeclareChannel(),
    createConfirmChannel: async () => new FakeConfirmChannel(answer),
  });
  return {
    address: parseBrokerUrl("amqp://u:p@h"),
    model,
    lost: new Promise(() => {}),
    fail: () => {},
    close: async () => {},
  } as unknown as Broker;
}

describe("sendTasks: a nack sends the task again through another connection, within the outage's deadline", () => {
  test("a second nack long after the first, on a connection that confirmed tasks in between, does not fail the send", async () => {
    let clock = 0;
    const brokers = [
      // 2nd connection: confirms 10 tasks over a long healthy spell, then nacks one
      fakeBroker((n) => {
        if (n === 11) {
          clock += 120_000; // two minutes later: twice the outage's deadline
          return "nack";
        }
        return "ack";
      }),
      fakeBroker(() => "ack"),
    ];
    const reconnector = new Reconnector(
      { urls: ["amqp://a", "amqp://b"], connectTimeoutMs: 1000 },
      { timeoutMs: 60_000, clock: () => clock, sleep: async () => {}, dial: async () => brokers.shift() as Broker },
    );
    const first = fakeBroker((n) => (n === 1 ? "nack" : "ack")); // the first task is nacked at once
    const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(`t${i}`));
    const result = await sendTasks(first, bodies, { queue: "q", window: 1, reconnector });
    expect(result.sent).toBe(20);
    expect(result.reconnects).toBe(2);
  });

  test("nacks with no confirm in between still end the send once the outage passes its deadline", async () => {
    let clock = 0;
    const nacking = () =>
      fakeBroker(() => {
        clock += 2000; // each connection nacks soon after it opened: one outage
        return "nack";
      });
    const reconnector = new Reconnector(
      { urls: ["amqp://a"], connectTimeoutMs: 1000 },
      { timeoutMs: 60_000, clock: () => clock, sleep: async () => {}, dial: async () => nacking() },
    );
    const err = await sendTasks(nacking(), [Buffer.from("t")], { queue: "q", window: 1, reconnector }).catch(
      (e: unknown) => e as Error,
    );
    expect((err as Error).message).toContain("nack");
    expect(clock).toBeGreaterThan(60_000);
  });
});
