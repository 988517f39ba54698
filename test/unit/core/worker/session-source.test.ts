import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { ConnectError } from "../../../../src/core/broker/connect-error.ts";
import type { Broker } from "../../../../src/core/broker/connection.ts";
import { Stopped } from "../../../../src/core/broker/reconnector.ts";
import { brokerSessions, openSession } from "../../../../src/core/worker/session-source.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";

/** A consuming channel that answers at once; it records its close. */
class FakeChannel extends EventEmitter {
  closed = false;
  consumed = false;
  async assertQueue(queue: string) {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  async prefetch() {}
  async consume() {
    this.consumed = true;
    return { consumerTag: "t" };
  }
  ack() {}
  nack() {}
  async close() {
    this.closed = true;
  }
}

/**
 * A connection whose channel opens only when the test says: as a silent broker, whose open never
 * answers and never fails (the real thing hangs; it does not reject).
 */
function silentBroker() {
  const channel = new FakeChannel();
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  let closed = 0;
  const model = {
    createChannel: async () => {
      await answered;
      return channel;
    },
  };
  const broker = {
    address: parseBrokerUrl("amqp://u:p@h"),
    model,
    lost: new Promise(() => {}),
    fail: () => {},
    close: async () => void closed++,
  } as unknown as Broker;
  return { broker, channel, answer, closes: () => closed };
}

const spec = { queue: "q", prefetch: 1, concurrency: 1, queueType: "classic" as const };

describe("openSession: a stop while the session is being opened leaves nothing consuming", () => {
  test("a broker that never answers: the stop rejects with Stopped at once and closes the connection", async () => {
    const b = silentBroker();
    const stop = new AbortController();
    const opening = openSession(b.broker, spec, () => {}, stop.signal);
    await Bun.sleep(5);
    stop.abort();
    expect(await opening.catch((e: unknown) => e)).toBeInstanceOf(Stopped);
    expect(b.closes()).toBe(1);
  });

  test("an open that completes after the stop: its channel (and consumer) is closed, never handed out", async () => {
    const b = silentBroker();
    const stop = new AbortController();
    const opening = openSession(b.broker, spec, () => {}, stop.signal);
    stop.abort();
    expect(await opening.catch((e: unknown) => e)).toBeInstanceOf(Stopped);
    b.answer(); // the broker answers late: the consumer is made after all
    await Bun.sleep(5);
    expect(b.channel.consumed).toBe(true);
    expect(b.channel.closed).toBe(true);
  });
});

describe("brokerSessions: the reconnector behind the worker's sessions", () => {
  test("a session whose task was acked ends the outage: its loss, however young, waits no backoff before the next connection", async () => {
    let clock = 0;
    const waits: number[] = [];
    const channels: FakeChannel[] = [];
    const dial = async (url: string) => {
      const channel = new FakeChannel();
      channels.push(channel);
      const model = { createChannel: async () => channel };
      return {
        address: parseBrokerUrl(url),
        model,
        lost: new Promise(() => {}),
        fail: () => {},
        close: async () => {},
      } as unknown as Broker;
    };
    const source = brokerSessions(
      { urls: ["amqp://a", "amqp://b"], connectTimeoutMs: 1000 },
      { ...spec, reconnectTimeoutMs: 60_000 },
      { clock: () => clock, dial, sleep: async (ms) => void waits.push(ms) },
    );
    const stop = new AbortController();
    let session = await source.first(() => {}, stop.signal);
    for (let i = 0; i < 6; i++) {
      // Each connection works (a task acked), then dies 3 s after it opened: young, but not idle.
      session.ack({ fields: { deliveryTag: 1 } } as never, false);
      clock += 3000;
      session = await source.next(session, () => {}, stop.signal);
    }
    expect(waits).toEqual([]);
  });
});

describe("brokerSessions: the first session", () => {
  test("a connection lost while its session opens (silent after the handshake): the next address, though --connect-timeout has passed", async () => {
    let clock = 0;
    const dials: string[] = [];
    const dial = async (url: string) => {
      const address = parseBrokerUrl(url);
      dials.push(address.host);
      if (address.host === "a") {
        // Answers the handshake, then nothing: the open's bound (10 s) passes and the connection is taken for gone.
        const lost = Promise.resolve(
          new ConnectError("lost the connection to a:5672: no answer to opening a consumer on 'q' within 10s", "LOST"),
        );
        const model = { createChannel: () => new Promise(() => (clock += 10_000)) };
        return { address, model, lost, fail: () => {}, close: async () => {} } as unknown as Broker;
      }
      const channel = new FakeChannel();
      return {
        address,
        model: { createChannel: async () => channel },
        lost: new Promise(() => {}),
        fail: () => {},
        close: async () => {},
      } as unknown as Broker;
    };
    const source = brokerSessions(
      { urls: ["amqp://a", "amqp://b"], connectTimeoutMs: 5000 },
      { ...spec, reconnectTimeoutMs: 60_000 },
      { clock: () => clock, dial, sleep: async () => {} },
    );
    const session = await source.first(() => {}, new AbortController().signal);
    expect(dials).toEqual(["a", "b"]);
    expect((session as unknown as { broker: Broker }).broker.address.host).toBe("b");
    await session.close();
  });
});

describe("brokerSessions: a queue that exists as the other type", () => {
  test("is used as that type, told once: the sessions after a reconnect declare it as found", async () => {
    const declared: string[] = [];
    /** The broker holds 'q' as a quorum queue: a declare without x-queue-type quorum is refused, as RabbitMQ does (406). */
    class QuorumQueueChannel extends FakeChannel {
      override async assertQueue(queue: string, options?: { arguments?: Record<string, unknown> }) {
        const type = options?.arguments?.["x-queue-type"] === "quorum" ? "quorum" : "classic";
        declared.push(type);
        if (type !== "quorum") {
          this.emit("close");
          throw Object.assign(
            new Error(
              `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${queue}' in vhost '/': received none but current is the value 'quorum' of type 'longstr'"`,
            ),
            { code: 406 },
          );
        }
        return { queue, messageCount: 0, consumerCount: 0 };
      }
    }
    const dial = async (url: string) => {
      const model = { createChannel: async () => new QuorumQueueChannel() };
      return {
        address: parseBrokerUrl(url),
        model,
        lost: new Promise(() => {}),
        fail: () => {},
        close: async () => {},
      } as unknown as Broker;
    };
    const told: string[] = [];
    const source = brokerSessions(
      { urls: ["amqp://a"], connectTimeoutMs: 1000 },
      { ...spec, reconnectTimeoutMs: 60_000, onQueueType: (type) => told.push(type) },
      { dial, sleep: async () => {} },
    );
    const stop = new AbortController();
    let session = await source.first(() => {}, stop.signal);
    expect([told, declared]).toEqual([["quorum"], ["classic", "quorum"]]);
    session = await source.next(session, () => {}, stop.signal);
    expect([told, declared]).toEqual([["quorum"], ["classic", "quorum", "quorum"]]);
    await session.close();
  });
});
