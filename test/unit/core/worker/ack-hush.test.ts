import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import { AckHush, HUSH_MAX_MS, HUSH_QUIET_MS, type HushTimers } from "../../../../src/core/worker/ack-hush.ts";
import { Acker } from "../../../../src/core/worker/acker.ts";
import { fakeChannel } from "../../../support/fakeChannel.ts";

const msg = (tag: number, consumerTag: string) => ({ fields: { deliveryTag: tag, consumerTag } }) as ConsumeMessage;

/**
 * A clock whose timers behave as the real ones: each fires once, in due order, when the time
 * passes it; a cleared one never fires; a timer set from a firing one counts from that moment.
 */
class FakeClock implements HushTimers {
  now = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  set(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.now + Math.max(1, ms), fn, id });
    return id;
  }
  clear(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Moves the time on by `ms`, firing what falls due on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
  }
  /** Moves the time on by `ms` in 1 ms steps, letting promises settle after each. */
  async pass(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      this.advance(1);
      await Promise.resolve();
    }
  }
}

/** An Acker on a fake channel with its hush; `deliver` tracks a delivery as the session does. */
function setup(returns = true, quietMs = 60_000, clock?: FakeClock) {
  const fake = fakeChannel({ internals: true });
  const acker = new Acker(fake.channel, () => true);
  const hush = clock ? new AckHush(acker, returns, quietMs, clock) : new AckHush(acker, returns, quietMs);
  const deliver = (m: ConsumeMessage) => {
    acker.track(m);
    hush.delivered(m);
  };
  /** An ack as the session writes it: held while its consumer is hushed. */
  const ack = (m: ConsumeMessage) => hush.held(m, false, false) || acker.ack(m, false);
  return { acker, hush, deliver, ack, ...fake };
}

describe("AckHush: a consumer is cancelled only when nothing can be on its way to it", () => {
  test("it resolves once the consumer holds its whole prefetch; acks meanwhile are held, then written after release", async () => {
    const { hush, deliver, ack, texts } = setup();
    const [a, b] = [msg(1, "old"), msg(2, "old")];
    deliver(a);
    let quiet = false;
    const hushed = hush.hush("old", 3).then(() => (quiet = true));
    ack(a); // held: an ack would free a credit the broker fills at once
    deliver(b);
    await Bun.sleep(0);
    expect(quiet).toBe(false); // 2 of 3
    deliver(msg(3, "old"));
    await hushed;
    expect(texts()).toEqual([]);
    hush.release("old");
    expect(texts()).toEqual(["ack 1"]);
  });

  test("another consumer's acks are not held", () => {
    const { hush, deliver, ack, texts } = setup();
    const m = msg(1, "new");
    deliver(msg(0, "old"));
    void hush.hush("old", 5);
    deliver(m);
    ack(m);
    expect(texts()).toEqual(["ack 1"]);
    hush.release("old");
  });

  test("a consumer left unfed (no delivery for HUSH_QUIET_MS) is taken as quiet", async () => {
    const { hush, deliver } = setup(true, HUSH_QUIET_MS);
    deliver(msg(1, "old"));
    const started = performance.now();
    await hush.hush("old", 10);
    expect(performance.now() - started).toBeGreaterThanOrEqual(HUSH_QUIET_MS - 5);
    hush.release("old");
  });

  test("deliveries that keep coming do not hold the acks past HUSH_MAX_MS from the hush", async () => {
    const clock = new FakeClock();
    const { hush, deliver, ack, texts } = setup(true, HUSH_QUIET_MS, clock);
    const first = msg(1, "old");
    deliver(first);
    let quietAt: number | undefined;
    void hush.hush("old", 1000).then(() => (quietAt ??= clock.now));
    ack(first); // held
    // One delivery each half quiet time, for ten times the bound: the consumer never fills nor goes quiet.
    for (let tag = 2; clock.now < 10 * HUSH_MAX_MS; tag++) {
      await clock.pass(HUSH_QUIET_MS / 2);
      deliver(msg(tag, "old"));
    }
    expect(quietAt).toBeDefined();
    expect(quietAt as number).toBeLessThanOrEqual(HUSH_MAX_MS);
    expect(texts()).toEqual([]);
    hush.release("old");
    expect(texts()).toEqual(["ack 1"]);
  });

  test("an unfed consumer is quiet HUSH_QUIET_MS after its last delivery, before HUSH_MAX_MS", async () => {
    const clock = new FakeClock();
    const { hush, deliver } = setup(true, HUSH_QUIET_MS, clock);
    let quietAt: number | undefined;
    void hush.hush("old", 10).then(() => (quietAt ??= clock.now));
    await clock.pass(HUSH_QUIET_MS / 2);
    deliver(msg(1, "old"));
    await clock.pass(HUSH_MAX_MS);
    expect(quietAt).toBe(HUSH_QUIET_MS / 2 + HUSH_QUIET_MS);
    hush.release("old");
  });

  test("where the broker gives nothing back (classic queues) it holds nothing and resolves at once", async () => {
    const { hush, deliver, ack, texts } = setup(false);
    const m = msg(1, "old");
    deliver(m);
    await hush.hush("old", 10);
    ack(m);
    expect(texts()).toEqual(["ack 1"]);
  });

  test("a requeue is held too, and a close releases every hushed consumer", async () => {
    const { hush, acker, deliver, texts } = setup();
    const m = msg(1, "old");
    deliver(m);
    void hush.hush("old", 4);
    expect(hush.held(m, true, false)).toBe(true);
    expect(texts()).toEqual([]);
    hush.releaseAll();
    expect(texts()).toEqual(["nack 1 requeue"]);
    expect(acker.unsettled).toEqual([]);
  });
});
