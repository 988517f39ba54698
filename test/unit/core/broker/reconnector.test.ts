import { describe, expect, test } from "bun:test";
import { ConnectError } from "../../../../src/core/broker/connect-error.ts";
import type { Broker } from "../../../../src/core/broker/connection.ts";
import { youngWithinMs } from "../../../../src/core/broker/liveness.ts";
import { type Attempt, Reconnector, Stopped } from "../../../../src/core/broker/reconnector.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";

const URLS = ["amqp://u:secret@a:1", "amqp://u:secret@b:2", "amqp://u:secret@c:3"];

/** A reconnector on a fake clock: `up` says which addresses answer; every dial and wait is recorded. */
function rig(
  options: { urls?: string[]; up?: (url: string, t: number) => boolean | ConnectError; timeoutMs?: number } = {},
) {
  const urls = options.urls ?? URLS;
  let t = 1_000_000;
  const dials: string[] = [];
  const waits: number[] = [];
  const attempts: Attempt[] = [];
  const r = new Reconnector(
    { urls, connectTimeoutMs: 5000 },
    {
      timeoutMs: options.timeoutMs ?? 60_000,
      clock: () => t,
      random: () => 0.5,
      sleep: async (ms, signal) => {
        waits.push(ms);
        if (!signal?.aborted) t += ms;
      },
      onAttempt: (a) => attempts.push(a),
      dial: async (url) => {
        dials.push(parseBrokerUrl(url).host);
        const up = options.up ? options.up(url, t) : true;
        if (up instanceof ConnectError) throw up;
        if (!up) throw new ConnectError(`cannot reach ${parseBrokerUrl(url).host}`, "ECONNREFUSED");
        return {
          address: parseBrokerUrl(url),
          lost: new Promise(() => {}),
          close: async () => {},
        } as unknown as Broker;
      },
    },
  );
  return { r, dials, waits, attempts, advance: (ms: number) => (t += ms), now: () => t };
}

describe("Reconnector", () => {
  test("the first connect takes the first address that answers, in the order given", async () => {
    const { r, dials, attempts } = rig({ up: (url) => url.includes("@c") });
    const broker = await r.connect();
    expect(broker.address.host).toBe("c");
    expect(dials).toEqual(["a", "b", "c"]);
    expect(attempts.map((a) => a.address)).toEqual(["a:1", "b:2"]); // one line per failed attempt, host:port only
    expect(JSON.stringify(attempts.map((a) => a.address))).not.toContain("secret");
  });

  test("an address that accepts and never answers costs one whole attempt; the next address still gets its turn within --connect-timeout", async () => {
    let t = 0;
    const given: number[] = [];
    const r = new Reconnector(
      { urls: URLS, connectTimeoutMs: 5000 },
      {
        timeoutMs: 5000,
        clock: () => t,
        random: () => 0.5,
        sleep: async (ms) => {
          t += ms;
        },
        dial: async (url, timeoutMs) => {
          given.push(timeoutMs);
          if (parseBrokerUrl(url).host === "a") {
            t += timeoutMs; // silent: the attempt runs out its bound
            throw new ConnectError("cannot reach a: no answer within 5s", "ETIMEDOUT");
          }
          return {
            address: parseBrokerUrl(url),
            lost: new Promise(() => {}),
            close: async () => {},
          } as unknown as Broker;
        },
      },
    );
    expect((await r.connect()).address.host).toBe("b");
    expect(given).toEqual([5000, 5000]);
  });

  test("a --connect-timeout under 5 s bounds the first attempt too", async () => {
    const given: number[] = [];
    const r = new Reconnector(
      { urls: ["amqp://a"], connectTimeoutMs: 1000 },
      {
        timeoutMs: 1000,
        dial: async (_url, timeoutMs) => {
          given.push(timeoutMs);
          throw new ConnectError("cannot reach a: no answer", "ETIMEDOUT");
        },
        sleep: async () => {},
      },
    );
    await expect(r.connect()).rejects.toThrow("cannot reach a");
    expect(given[0]).toBe(1000);
  });

  test("connections that open and are lost again before they did any work (answered the handshake, then silence) end in a give-up at the outage's deadline", async () => {
    const { r, advance } = rig({ timeoutMs: 60_000 });
    let broker = await r.connect();
    let tries = 0;
    const run = async () => {
      for (;;) {
        tries++;
        advance(10_000); // each open waits ANSWER_TIMEOUT_MS for an answer that never comes
        r.lost(broker, new Error("no answer to opening a consumer within 10s"));
        broker = await r.connect();
      }
    };
    const err = (await run().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(
      "gave up after 60s: every connection was lost again as soon as it was made; last: no answer to opening a consumer within 10s",
    );
    expect(tries).toBeLessThanOrEqual(8);
  });

  test("a connection lost young after the deadline (answered the handshake, then nothing for 10 s): every address still gets its one attempt in the outage, then the deadline holds", async () => {
    const { r, dials, advance } = rig({ urls: ["amqp://u:p@a:1", "amqp://u:p@b:2"], timeoutMs: 5000 });
    const a = await r.connect();
    advance(10_000); // its session open waited ANSWER_TIMEOUT_MS in vain: past --connect-timeout
    r.lost(a, new Error("no answer to opening a consumer within 10s"));
    const b = await r.connect();
    expect(b.address.host).toBe("b");
    advance(10_000);
    r.lost(b, new Error("no answer to opening a consumer within 10s"));
    await expect(r.connect()).rejects.toThrow(
      "gave up after 5s: every connection was lost again as soon as it was made",
    );
    expect(dials).toEqual(["a", "b"]);
  });

  test("a connection that did real work ends the outage, however young", async () => {
    const { r, advance } = rig({ timeoutMs: 60_000 });
    let broker = await r.connect();
    for (let i = 0; i < 20; i++) {
      advance(10_000);
      r.recovered(); // a task acked, a confirm: progress
      r.lost(broker);
      broker = await r.connect();
    }
    expect(r.expired()).toBe(false);
  });

  test("after a loss it starts with the address after the lost one (round robin)", async () => {
    const { r, dials, advance } = rig();
    let broker = await r.connect();
    for (const expected of ["b", "c", "a"]) {
      advance(youngWithinMs() + 1);
      r.lost(broker);
      broker = await r.connect();
      expect(broker.address.host).toBe(expected);
    }
    expect(dials).toEqual(["a", "b", "c", "a"]);
  });

  test("backoff grows with each failed attempt and is jittered", async () => {
    const { r, waits } = rig({ up: (_url, t) => t > 1_000_000 + 1000 });
    await r.connect();
    expect(waits.length).toBeGreaterThan(2);
    for (let i = 1; i < waits.length; i++) expect(waits[i] as number).toBeGreaterThanOrEqual(waits[i - 1] as number);
    expect(waits[0]).toBe(75); // 100 ms, half of it jittered (random 0.5)
  });

  test("--reconnect-timeout bounds the whole outage across all addresses; the error names them all", async () => {
    const { r, now } = rig({ up: () => false, timeoutMs: 10_000 });
    const began = now();
    const err = await r.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/no broker answered within 10s \(tried a:1, b:2, c:3\)/);
    expect((err as Error).message).not.toContain("secret");
    expect(now() - began).toBeLessThanOrEqual(10_000);
  });

  test.each([1000, 2000, 3000, 5000, 7500])(
    "a refused port is retried with backoff until --connect-timeout %i ms, the last try made at the deadline",
    async (timeoutMs) => {
      const dialledAt: number[] = [];
      const { r, now, waits } = rig({
        urls: ["amqp://a:1"],
        timeoutMs,
        up: (_url, t) => {
          dialledAt.push(t);
          return false;
        },
      });
      const began = now();
      await expect(r.connect()).rejects.toThrow("cannot reach a");
      expect(dialledAt.length).toBeGreaterThan(2);
      expect(dialledAt.at(-1)).toBe(began + timeoutMs); // not one backoff early
      expect(now() - began).toBe(timeoutMs);
      for (let i = 1; i < waits.length - 1; i++)
        expect(waits[i] as number).toBeGreaterThanOrEqual(waits[i - 1] as number); // backoff grows; the last wait is cut to the deadline
    },
  );

  test("one address: the last error as it is", async () => {
    const { r } = rig({ urls: ["amqp://a:1"], up: () => false, timeoutMs: 2000 });
    expect(((await r.connect().catch((e: unknown) => e)) as Error).message).toBe("cannot reach a");
  });

  test("a refused login fails at once, without trying the other addresses", async () => {
    const { r, dials } = rig({ up: () => new ConnectError("refused the login", "ACCESS_REFUSED") });
    await expect(r.connect()).rejects.toThrow("refused the login");
    expect(dials).toEqual(["a"]);
  });

  test("connections that die young count against the same outage, with a pause before the next", async () => {
    const { r, waits, advance } = rig({ timeoutMs: 30_000 });
    r.lost(await r.connect());
    expect(r.expired()).toBe(false);
    for (let i = 0; i < 3; i++) {
      const b = await r.connect();
      advance(1000); // lived 1 s: young
      r.lost(b);
    }
    advance(30_000 - 3000); // 30 s after the outage began, counting the young connections' lives
    expect(r.expired()).toBe(true); // the clock did not restart
    expect(waits.length).toBe(3); // a pause before each connect after a young death
  });

  test("recovered() ends the outage: the next loss starts a new one", async () => {
    const { r, advance } = rig();
    r.lost(await r.connect());
    const b = await r.connect();
    advance(30_000);
    r.recovered();
    r.lost(b);
    advance(50_000); // 80 s after the first loss, 50 s after this one
    expect(r.expired()).toBe(false); // the new outage began at this loss, not at the first one
  });

  test("an abort ends the outage at once with Stopped", async () => {
    const aborter = new AbortController();
    const { r } = rig({
      up: () => {
        aborter.abort();
        return false;
      },
    });
    await expect(r.connect(aborter.signal)).rejects.toBeInstanceOf(Stopped);
  });

  test("aborted while a connection was being made: it is closed, not handed out", async () => {
    const aborter = new AbortController();
    let closed = false;
    const r = new Reconnector(
      { urls: ["amqp://a"], connectTimeoutMs: 1000 },
      {
        timeoutMs: 1000,
        dial: async (url) => {
          aborter.abort();
          return {
            address: parseBrokerUrl(url),
            lost: new Promise(() => {}),
            close: async () => {
              closed = true;
            },
          } as unknown as Broker;
        },
      },
    );
    await expect(r.connect(aborter.signal)).rejects.toBeInstanceOf(Stopped);
    expect(closed).toBe(true);
  });
});
