import { describe, expect, test } from "bun:test";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { EventEmitter } from "node:events";
import { Alarm, ConfirmWindow, SentTasks } from "../../../../src/core/publish/flow.ts";

describe("SentTasks", () => {
  test("confirms in order: each task taken once, the rest kept oldest first", () => {
    const sent = new SentTasks<string>();
    for (let seq = 1; seq <= 5; seq++) sent.add(seq, `t${seq}`);
    sent.delete(1);
    sent.delete(3); // out of order: 2 stays the oldest
    expect(sent.get(2)).toBe("t2");
    expect(sent.get(3)).toBeUndefined();
    expect(sent.values()).toEqual(["t2", "t4", "t5"]);
    sent.delete(3); // again: nothing happens
    sent.delete(99); // never added
    expect(sent.values()).toEqual(["t2", "t4", "t5"]);
  });

  test("a nacked task stays while later ones are confirmed; the store compacts as it goes", () => {
    const sent = new SentTasks<number>();
    sent.add(1, 1);
    for (let seq = 2; seq <= 100_000; seq++) {
      sent.add(seq, seq);
      sent.delete(seq); // confirmed at once; 1 (nacked) is kept
    }
    expect(sent.values()).toEqual([1]);
    sent.delete(1);
    expect(sent.values()).toEqual([]);
    for (let seq = 100_001; seq <= 103_000; seq++) sent.add(seq, seq);
    for (let seq = 100_001; seq <= 102_999; seq++) sent.delete(seq);
    expect(sent.values()).toEqual([103_000]);
    expect(sent.get(103_000)).toBe(103_000);
  });
});

describe("ConfirmWindow", () => {
  test("fixed: full at its size", () => {
    const w = new ConfirmWindow(4);
    expect(w.full(3)).toBe(false);
    expect(w.full(4)).toBe(true);
  });

  test("adaptive: doubles when full after half a window was confirmed, up to the max", () => {
    const w = new ConfirmWindow(4, 16);
    expect(w.full(4)).toBe(true); // nothing confirmed yet: no growth
    w.confirmed(0);
    w.confirmed(0);
    expect(w.full(4)).toBe(false);
    expect(w.size).toBe(8);
    for (let i = 0; i < 4; i++) w.confirmed(0);
    expect(w.full(8)).toBe(false);
    expect(w.size).toBe(16);
    for (let i = 0; i < 8; i++) w.confirmed(0);
    expect(w.full(16)).toBe(true);
    expect(w.size).toBe(16);
  });
});

describe("Alarm: the connection's blocked state, shared by its publishers", () => {
  const model = () => new EventEmitter() as unknown as ChannelModel & EventEmitter;
  const channel = () => new EventEmitter() as unknown as ConfirmChannel & EventEmitter;

  test("a publisher's channel closing during an alarm does not say the alarm lifted; its replacement starts blocked", async () => {
    const m = model();
    const told: Array<string | null> = [];
    const first = channel();
    const a = new Alarm(m, first, (r) => told.push(r));
    m.emit("blocked", "low on memory");
    expect(told).toEqual(["low on memory"]);
    const waiting = a.blocked;
    expect(waiting).toBeInstanceOf(Promise);
    first.emit("close"); // a failed publisher replaced (the copier does so) while the alarm is on
    await waiting; // its waiters wake: their next publish throws
    expect(told).toEqual(["low on memory"]); // and nobody is told the alarm lifted
    const b = new Alarm(m, channel(), (r) => told.push(r));
    expect(b.blocked).toBeInstanceOf(Promise); // the broker says 'blocked' once per connection: the new one knows anyway
    expect(told).toEqual(["low on memory", "low on memory"]);
    m.emit("unblocked");
    expect(b.blocked).toBeUndefined();
    expect(told).toEqual(["low on memory", "low on memory", null]);
  });

  test("a new connection starts unblocked; an alarm on one connection does not block another", () => {
    const m1 = model();
    const m2 = model();
    const a = new Alarm(m1, channel());
    const b = new Alarm(m2, channel());
    m1.emit("blocked", "disk");
    expect(a.blocked).toBeInstanceOf(Promise);
    expect(b.blocked).toBeUndefined();
  });
});
