import { describe, expect, test } from "bun:test";
import { SentTasks } from "../../../../src/core/publish/sent-tasks.ts";

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
