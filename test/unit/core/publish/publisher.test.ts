import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import type { Broker } from "../../../../src/core/broker/connection.ts";
import { ConnectError } from "../../../../src/core/broker/connect-error.ts";
import { publishConfirmed } from "../../../../src/core/publish/publish-confirmed.ts";
import { Publisher } from "../../../../src/core/publish/publisher.ts";
import { PublishError } from "../../../../src/core/publish/publish-error.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";

/** A confirm channel that keeps each publish's callback for the test to confirm, nack or drop. */
class FakeChannel extends EventEmitter {
  readonly sent: Array<{
    queue: string;
    id: string | undefined;
    mandatory: boolean | undefined;
    cb: (err: unknown) => void;
  }> = [];
  sendToQueue(
    queue: string,
    _body: Buffer,
    options: { messageId?: string; mandatory?: boolean },
    cb: (err: unknown) => void,
  ): boolean {
    this.sent.push({ queue, id: options.messageId, mandatory: options.mandatory, cb });
    return true;
  }
  confirm(i: number, err: unknown = null) {
    this.sent[i]?.cb(err);
  }
  async close() {}
}

/** The throwaway channel of a passive declare: the queues in `existing` are found, others are a 404. */
class FakeCheckChannel extends EventEmitter {
  constructor(
    private readonly existing: Set<string>,
    private readonly checked: string[],
  ) {
    super();
  }
  async checkQueue(queue: string) {
    this.checked.push(queue);
    if (this.existing.has(queue)) return { queue, messageCount: 0, consumerCount: 0 };
    throw Object.assign(
      new Error(`Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no queue '${queue}'"`),
      { code: 404 },
    );
  }
  async close() {}
}

async function rig(window: number, maxWindow?: number, mandatoryEvery?: number) {
  const channel = new FakeChannel();
  const lost = Promise.withResolvers<ConnectError>();
  const existing = new Set<string>(["q"]);
  const checked: string[] = [];
  const model = new EventEmitter() as EventEmitter & {
    createConfirmChannel: () => Promise<FakeChannel>;
    createChannel: () => Promise<FakeCheckChannel>;
  };
  model.createConfirmChannel = async () => channel;
  model.createChannel = async () => new FakeCheckChannel(existing, checked);
  const broker = {
    address: parseBrokerUrl("amqp://u:p@h"),
    model,
    lost: lost.promise,
    close: async () => {},
  } as unknown as Broker;
  const options = {
    window,
    ...(maxWindow !== undefined ? { maxWindow } : {}),
    ...(mandatoryEvery !== undefined ? { mandatoryEvery } : {}),
  };
  const loseConnection = () => lost.resolve(new ConnectError("lost the connection to h:5672: gone (the test)", "LOST"));
  return { channel, publisher: await Publisher.open(broker, options), model, existing, checked, loseConnection };
}

const props = (id: string) => ({ messageId: id });
const tick = () => new Promise<void>((r) => setTimeout(r, 1));

describe("Publisher: the confirm window", () => {
  test("publishes at once while the window has room, then waits for a confirm", async () => {
    const { channel, publisher } = await rig(2);
    expect(publisher.publish("q", Buffer.from("1"), props("1"))).toBeUndefined();
    expect(publisher.publish("q", Buffer.from("2"), props("2"))).toBeUndefined();
    let third = false;
    const wait = publisher.publish("q", Buffer.from("3"), props("3"));
    expect(wait).toBeInstanceOf(Promise);
    void wait?.then(() => (third = true));
    await tick();
    expect(third).toBe(false);
    expect(channel.sent).toHaveLength(2);
    channel.confirm(0);
    await tick();
    expect(third).toBe(true);
    expect(channel.sent.map((s) => s.id)).toEqual(["1", "2", "3"]);
    expect(publisher.published - publisher.confirmed).toBe(2);
  });

  test("flush resolves once every publish is confirmed; counts confirms", async () => {
    const { channel, publisher } = await rig(10);
    for (const id of ["a", "b", "c"]) void publisher.publish("q", Buffer.from(id), props(id));
    const flushed = publisher.flush();
    channel.confirm(0);
    channel.confirm(1);
    channel.confirm(2);
    await flushed;
    expect(publisher.confirmed).toBe(3);
    expect(publisher.pendingTasks()).toEqual([]);
  });

  test("a nack fails the publisher (kind 'nacked': worth sending again), keeps the task pending, and the other publishes keep their own outcome", async () => {
    const { channel, publisher } = await rig(10);
    const a = publishConfirmed(publisher, "q", Buffer.from("a"), props("a"));
    const b = publishConfirmed(publisher, "q", Buffer.from("b"), props("b"));
    await tick();
    channel.confirm(0, new Error("nack"));
    channel.confirm(1);
    await expect(a).rejects.toThrow(/did not accept task a \(nack\)/);
    await expect(b).resolves.toBeUndefined();
    expect(publisher.failed).toBe(true);
    const err = await publisher.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).kind).toBe("nacked");
    expect(publisher.pendingTasks().map((t) => t.properties.messageId)).toEqual(["a"]);
    expect(() => publisher.publish("q", Buffer.from("c"))).toThrow();
  });

  test("the channel closing with tasks unconfirmed: kind 'closed', and they stay pending to be sent again", async () => {
    const { channel, publisher } = await rig(10);
    for (const id of ["a", "b"]) void publisher.publish("q", Buffer.from(id), props(id));
    channel.confirm(0);
    channel.emit("close");
    const err = await publisher.flush().catch((e: unknown) => e);
    expect((err as PublishError).kind).toBe("closed");
    expect(publisher.pendingTasks().map((t) => t.properties.messageId)).toEqual(["b"]);
  });

  test("an unroutable task (returned, then confirmed) fails its own publish as a refusal", async () => {
    const { channel, publisher } = await rig(10);
    const a = publishConfirmed(publisher, "nowhere", Buffer.from("a"), props("a"));
    await tick();
    channel.emit("return", {
      fields: { routingKey: "nowhere" },
      properties: { messageId: "a" },
      content: Buffer.from("a"),
    });
    channel.confirm(0);
    await expect(a).rejects.toThrow(/unroutable: no queue 'nowhere'/);
  });

  test("a blocked connection holds publishes until it is unblocked", async () => {
    const { channel, publisher, model } = await rig(10);
    model.emit("blocked", "low on memory");
    const wait = publisher.publish("q", Buffer.from("a"), props("a"));
    expect(wait).toBeInstanceOf(Promise);
    await tick();
    expect(channel.sent).toHaveLength(0);
    model.emit("unblocked");
    await wait;
    expect(channel.sent).toHaveLength(1);
  });
});

describe("Publisher: the adaptive window (how many publishes go out before one must wait)", () => {
  /** Publishes until one must wait (returns a promise: that one waits for room); how many went out at once. */
  const atOnce = (publisher: Publisher, from: number): number => {
    let n = 0;
    while (publisher.publish("q", Buffer.from("x"), props(String(from + n))) === undefined) n++;
    return n;
  };

  test("a fixed window never grows", async () => {
    const { channel, publisher } = await rig(2);
    expect(atOnce(publisher, 0)).toBe(2);
    channel.confirm(0);
    channel.confirm(1);
    await tick(); // the waiting one goes out
    expect(atOnce(publisher, 10)).toBe(1); // 2 in flight again: full, not grown
  });

  test("does not grow before any confirm came (a burst alone is no sign of lagging confirms)", async () => {
    const { publisher } = await rig(4, 64);
    expect(atOnce(publisher, 0)).toBe(4);
  });

  test("doubles when full after half a window was confirmed, up to maxWindow", async () => {
    const { channel, publisher } = await rig(4, 8);
    expect(atOnce(publisher, 0)).toBe(4);
    channel.confirm(0);
    channel.confirm(1);
    await tick(); // the one that waited goes out: 3 in flight
    // Full again with half a window confirmed: it grows to 8 instead of waiting.
    expect(atOnce(publisher, 10)).toBe(5);
    expect(publisher.published - publisher.confirmed).toBe(8);
    for (let i = 2; i < 10; i++) channel.confirm(i);
    await tick();
    expect(atOnce(publisher, 20)).toBeLessThanOrEqual(8); // capped: never more than 8 in flight
    expect(publisher.published - publisher.confirmed).toBe(8);
  });
});

describe("Publisher: the mandatory flag on one task in N (mandatoryEvery)", () => {
  test("default: every task is mandatory, and flush checks no queue", async () => {
    const { channel, publisher, checked } = await rig(10);
    for (const id of ["a", "b", "c"]) void publisher.publish("q", Buffer.from(id), props(id));
    expect(channel.sent.map((s) => s.mandatory)).toEqual([true, true, true]);
    for (let i = 0; i < 3; i++) channel.confirm(i);
    await publisher.flush();
    expect(checked).toEqual([]);
  });

  test("mandatoryEvery 3: the first and each third; flush checks the queue the last ones went to", async () => {
    const { channel, publisher, checked } = await rig(10, undefined, 3);
    for (const id of ["a", "b", "c", "d", "e"]) void publisher.publish("q", Buffer.from(id), props(id));
    expect(channel.sent.map((s) => s.mandatory)).toEqual([true, false, false, true, false]);
    for (let i = 0; i < 5; i++) channel.confirm(i);
    await publisher.flush();
    expect(checked).toEqual(["q"]);
    await publisher.flush(); // checked already: nothing new sent since
    expect(checked).toEqual(["q"]);
  });

  test("a publish someone waits on (publishConfirmed) is always mandatory", async () => {
    const { channel, publisher } = await rig(10, undefined, 100);
    void publisher.publish("q", Buffer.from("a"), props("a"));
    void publisher.publish("q", Buffer.from("b"), props("b"));
    const c = publishConfirmed(publisher, "q", Buffer.from("c"), props("c"));
    await tick();
    expect(channel.sent.map((s) => s.mandatory)).toEqual([true, false, true]);
    for (let i = 0; i < 3; i++) channel.confirm(i);
    await c;
  });

  test("the queue deleted after the last flagged task: flush fails, a refusal that names the queue", async () => {
    const { channel, publisher, existing } = await rig(10, undefined, 128);
    for (const id of ["a", "b"]) void publisher.publish("q", Buffer.from(id), props(id));
    channel.confirm(0);
    channel.confirm(1);
    existing.delete("q");
    const err = await publisher.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).kind).toBe("refused");
    expect((err as PublishError).message).toBe(
      "queue 'q' was deleted while tasks were sent to it: the tasks sent to it since the last one it took may be lost",
    );
    expect(publisher.failed).toBe(true);
  });

  test("the check failing with the connection gone: a 'closed' failure (send reconnects, and checks the queue there first)", async () => {
    const { channel, publisher, model, loseConnection } = await rig(10, undefined, 128);
    for (const id of ["a", "b"]) void publisher.publish("q", Buffer.from(id), props(id));
    channel.confirm(0);
    channel.confirm(1);
    model.createChannel = () => new Promise(() => {}); // amqplib left pending by a dying connection
    const flushed = publisher.flush().catch((e: unknown) => e);
    loseConnection();
    const err = await flushed;
    expect((err as PublishError).kind).toBe("closed");
    expect((err as PublishError).message).toBe(
      "could not check that queue 'q' still exists: lost the connection to h:5672: gone (the test)",
    );
    expect(publisher.uncheckedQueues()).toEqual(["q"]);
  });

  test("the check failing on a live connection: a refusal, said as it is", async () => {
    const { channel, publisher, model } = await rig(10, undefined, 128);
    for (const id of ["a", "b"]) void publisher.publish("q", Buffer.from(id), props(id));
    channel.confirm(0);
    channel.confirm(1);
    model.createChannel = async () => {
      throw new Error("No channels left to allocate");
    };
    const err = await publisher.flush().catch((e: unknown) => e);
    expect((err as PublishError).kind).toBe("refused");
    expect((err as PublishError).message).toBe(
      "could not check that queue 'q' still exists: No channels left to allocate",
    );
  });

  test("a flagged task confirmed (not returned) covers the unflagged ones before it: nothing to check", async () => {
    const { channel, publisher, checked } = await rig(10, undefined, 3);
    for (const id of ["a", "b", "c", "d"]) void publisher.publish("q", Buffer.from(id), props(id));
    expect(channel.sent.map((s) => s.mandatory)).toEqual([true, false, false, true]);
    expect(publisher.uncheckedQueues()).toEqual(["q"]); // d only sent: b and c not yet covered
    for (let i = 0; i < 4; i++) channel.confirm(i);
    expect(publisher.uncheckedQueues()).toEqual([]);
    await publisher.flush();
    expect(checked).toEqual([]);
  });

  test("flush checks only once every confirm is in", async () => {
    const { channel, publisher, checked } = await rig(10, undefined, 128);
    for (const id of ["a", "b"]) void publisher.publish("q", Buffer.from(id), props(id));
    let done = false;
    const flushed = publisher.flush().then(() => (done = true));
    await tick();
    expect(checked).toEqual([]);
    channel.confirm(0);
    await tick();
    expect(checked).toEqual([]);
    channel.confirm(1);
    await flushed;
    expect(done).toBe(true);
    expect(checked).toEqual(["q"]);
  });

  test("a flagged task returned: the publisher fails, saying the ones just before it may be lost too", async () => {
    const { channel, publisher } = await rig(10, undefined, 2);
    for (const id of ["a", "b", "c"]) void publisher.publish("gone", Buffer.from(id), props(id));
    channel.emit("return", {
      fields: { routingKey: "gone" },
      properties: { messageId: "c" },
      content: Buffer.from("c"),
    });
    for (let i = 0; i < 3; i++) channel.confirm(i);
    const err = await publisher.flush().catch((e: unknown) => e);
    expect((err as PublishError).kind).toBe("refused");
    expect((err as PublishError).message).toBe(
      "task c was unroutable: no queue 'gone' took it (deleted while tasks were sent to it?); the tasks sent to it since the last one it took may be lost too",
    );
  });
});
