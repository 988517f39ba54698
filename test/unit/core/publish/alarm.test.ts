import { describe, expect, test } from "bun:test";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { EventEmitter } from "node:events";
import { Alarm } from "../../../../src/core/publish/alarm.ts";

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
