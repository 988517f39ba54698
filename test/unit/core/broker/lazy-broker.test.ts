import { describe, expect, test } from "bun:test";
import { ConnectError } from "../../../../src/core/broker/connect-error.ts";
import type { Broker } from "../../../../src/core/broker/connection.ts";
import { LazyBroker, reconnecting } from "../../../../src/core/broker/lazy-broker.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";

/** Fake connections to a, b, c: `loseLast` makes the last one handed out lost; `down` refuses hosts. */
function rig(down: Set<string> = new Set()) {
  const dials: string[] = [];
  const losers: ((err: ConnectError) => void)[] = [];
  let t = 0;
  const connect = reconnecting(
    { urls: ["amqp://u:p@a:1", "amqp://u:p@b:2", "amqp://u:p@c:3"], connectTimeoutMs: 5000 },
    {
      clock: () => t,
      sleep: async (ms) => {
        t += ms;
      },
      random: () => 0.5,
      dial: async (url) => {
        const address = parseBrokerUrl(url);
        dials.push(address.host);
        if (down.has(address.host)) throw new ConnectError(`cannot reach ${address.host}`, "ECONNREFUSED");
        let lose!: (err: ConnectError) => void;
        const lost = new Promise<ConnectError>((resolve) => (lose = resolve));
        losers.push(lose);
        return { address, lost, close: async () => {} } as unknown as Broker;
      },
    },
  );
  const loseLast = async () => {
    losers.at(-1)?.(new ConnectError("lost the connection: no answer to declaring a queue within 10s", "LOST"));
    await Bun.sleep(0);
  };
  return { connect, dials, loseLast, advance: (ms: number) => (t += ms), now: () => t };
}

describe("reconnecting: the connect function of a connection of one's own (the worker's copies, its reports)", () => {
  test("after a loss the next connection starts with the address after the lost one, never the first address again", async () => {
    const { connect, dials, loseLast, advance } = rig();
    const link = new LazyBroker(connect);
    expect((await link.current()).address.host).toBe("a");
    advance(60_000); // lived long: a new outage
    await loseLast(); // a silent after the handshake: its first declare went unanswered
    expect((await link.current()).address.host).toBe("b");
    advance(60_000);
    await loseLast();
    expect((await link.current()).address.host).toBe("c");
    expect(dials).toEqual(["a", "b", "c"]);
    await link.close();
  });

  test("a call that gave up ends its outage: the next call (a copy tried again) gets the whole --connect-timeout again", async () => {
    const down = new Set(["a", "b", "c"]);
    const { connect, now } = rig(down);
    await expect(connect()).rejects.toThrow("no broker answered within 5s");
    const began = now();
    await expect(connect()).rejects.toThrow("no broker answered within 5s");
    expect(now() - began).toBe(5000); // retried with backoff for 5 s, not once at a deadline long past
  });

  test("connections lost young, again and again: a call gives up at most once, never every call from then on", async () => {
    const { connect, loseLast, advance } = rig();
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const got = await connect().then(
        (b) => b.address.host,
        (e: Error) => e.message.slice(0, 20),
      );
      outcomes.push(got);
      advance(6000); // past --connect-timeout, young (under youngWithinMs)
      await loseLast();
    }
    // Three young losses past the deadline: that outage gives up once, the next call starts afresh.
    expect(outcomes.map((o) => (o.length === 1 ? o : "gave up"))).toEqual(["a", "b", "c", "gave up", "a", "b"]);
  });
});
