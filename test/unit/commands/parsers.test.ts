import { InvalidArgumentError } from "@commander-js/extra-typings";
import { describe, expect, test } from "bun:test";
import { duration, heartbeat, intInRange, prefetch, queueName } from "../../../src/commands/parsers.ts";

function rejection(fn: () => unknown): InvalidArgumentError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidArgumentError);
  return thrown as InvalidArgumentError;
}

describe("intInRange", () => {
  test.each([
    [1, 10, "1", 1],
    [1, 10, "10", 10],
    [1, 10, "5", 5],
    [1, 10, " 7 ", 7],
    [1, 10, "007", 7],
    [0, 5, "0", 0],
    [1, 65535, "65535", 65535],
    [0, undefined, "0", 0],
    [0, undefined, "1000000000", 1_000_000_000],
  ])("intInRange(%p, %p)(%p) = %p", (min, max, text, expected) => {
    expect(intInRange(min, max)(text)).toBe(expected);
  });

  test.each([
    [1, 10, "abc"],
    [1, 10, ""],
    [1, 10, " "],
    [1, 10, "-1"],
    [1, 10, "+3"],
    [1, 10, "1.5"],
    [1, 10, "1e1"],
    [1, 10, "0x5"],
    [1, 10, "5 6"],
    [1, 10, "5abc"],
  ])("intInRange(%p, %p) rejects %p as not a whole number", (min, max, text) => {
    expect(rejection(() => intInRange(min, max)(text)).message).toBe(`expected a whole number, got '${text}'.`);
  });

  test.each([
    [1, 10, "0", "must be from 1 to 10, got 0."],
    [1, 10, "11", "must be from 1 to 10, got 11."],
    [1, 65535, "65536", "must be from 1 to 65535, got 65536."],
    [0, undefined, "1000000001", "must be from 0 to 1000000000, got 1000000001."],
    [1, undefined, "0", "must be from 1 to 1000000000, got 0."],
  ])("intInRange(%p, %p) rejects %p as out of range", (min, max, text, message) => {
    expect(rejection(() => intInRange(min, max)(text)).message).toBe(message);
  });
});

describe("duration (commander parser)", () => {
  test.each([
    ["500ms", 500],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["250", 250],
  ])("duration(%p) = %p", (text, expected) => {
    expect(duration(text)).toBe(expected);
  });

  test.each([["abc"], ["-1s"], [""], ["5 minutes"]])("rejects %p with commander's InvalidArgumentError", (text) => {
    expect(rejection(() => duration(text)).message).toBe(`expected a duration like 500ms, 2s or 1m, got '${text}'.`);
  });
});

describe("prefetch parser", () => {
  test.each([
    ["1", 1],
    ["65535", 65535],
    ["auto", "auto"],
    [" auto ", "auto"],
  ])("%s -> %p", (text, expected) => {
    expect(prefetch(text)).toBe(expected as never);
  });

  test.each(["0", "65536", "Auto", "two", "-1"])("%s is refused", (text) => {
    expect(() => prefetch(text)).toThrow();
  });
});

describe("heartbeat: seconds, as a URL's ?heartbeat=N, or a duration in whole seconds", () => {
  test.each([
    ["5", 5],
    ["0", 0],
    ["5s", 5],
    ["1m", 60],
    ["65535", 65_535],
  ])("%s -> %d s", (text, seconds) => {
    expect(heartbeat(text)).toBe(seconds);
  });

  test.each([["1.5s"], ["500ms"], ["65536"], ["soon"]])("%s is refused", (text) => {
    expect(rejection(() => heartbeat(text)).message.length).toBeGreaterThan(0);
  });
});

describe("queueName", () => {
  test.each(["task_queue", "jobs.amq", "amq", "amqp.jobs", "q".repeat(238), "é".repeat(119)])("accepts %p", (name) => {
    expect(queueName(name)).toBe(name);
  });

  test.each([
    ["", "1 to 238 bytes long (taskq adds up to 17 for its retry, delay and dead queues), got 0"],
    ["q".repeat(239), "1 to 238 bytes long (taskq adds up to 17 for its retry, delay and dead queues), got 239"],
    // a 249-byte name was taken, and its retry queue's name ('.retry.1000': 260 bytes) refused on every failure
    ["q".repeat(249), "got 249"],
    ["é".repeat(120), "got 240"],
    ["amq.foo", "names starting with 'amq.' are reserved by the broker; use another --queue."],
    ["amq.", "reserved by the broker"],
  ])("rejects %p", (name, hint) => {
    expect(rejection(() => queueName(name)).message).toContain(hint);
  });
});
