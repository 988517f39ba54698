import { describe, expect, test } from "bun:test";
import type { Unconfirmed } from "../../../../src/core/publish/publisher.ts";
import { ResendSet } from "../../../../src/core/publish/resend.ts";

const task = (id: string, body = "same"): Unconfirmed => ({
  queue: "q",
  body: Buffer.from(body),
  properties: { messageId: id },
});
const ids = (set: ResendSet) => {
  const out: Array<string | undefined> = [];
  for (let t = set.next(); t; t = set.next()) out.push(t.properties.messageId);
  return out;
};

describe("send's resend set", () => {
  test("the unconfirmed tasks of a lost connection go first, then the one in hand", () => {
    const set = new ResendSet();
    set.inHand(task("3"));
    set.carry([task("1"), task("2")]);
    expect(set.size).toBe(3);
    expect(ids(set)).toEqual(["1", "2", "3"]);
    expect(set.resent).toBe(3);
  });

  test("tasks are known by message id, not body: identical bodies are all kept", () => {
    const set = new ResendSet();
    set.carry([task("1"), task("2"), task("3")]);
    expect(ids(set)).toEqual(["1", "2", "3"]);
  });

  test("dropped again while re-sending: nothing twice, nothing lost", () => {
    const set = new ResendSet();
    set.carry([task("1"), task("2"), task("3")]);
    const first = set.next() as Unconfirmed; // published, unconfirmed when the second drop comes
    set.inHand(set.next()); // "2" was being published
    set.carry([first]);
    expect(ids(set)).toEqual(["1", "3", "2"]);
  });

  test("the task in hand already among the unconfirmed is not carried twice", () => {
    const set = new ResendSet();
    set.inHand(task("1"));
    set.carry([task("1")]);
    expect(ids(set)).toEqual(["1"]);
  });

  test("a task the channel took is no longer in hand", () => {
    const set = new ResendSet();
    set.inHand(task("1"));
    set.inHand(undefined);
    set.carry([]);
    expect(set.size).toBe(0);
  });
});
