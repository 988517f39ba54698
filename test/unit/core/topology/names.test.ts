import { describe, expect, test } from "bun:test";
import { MAX_QUEUE_NAME_BYTES, queueNameProblem, retryQueueName } from "../../../../src/core/topology/names.ts";

// The one queue-name rule, for the CLI's --queue and the library's queue option, worded for each.

describe("queueNameProblem", () => {
  test("the longest name leaves room for the longest hop queue name", () => {
    expect(Buffer.byteLength(retryQueueName("q".repeat(MAX_QUEUE_NAME_BYTES), 2 ** 32 - 1))).toBe(255);
  });

  test.each(["task_queue", "amq", "q".repeat(238)])("takes %p", (name) => {
    expect(queueNameProblem(name, "--queue")).toBeUndefined();
  });

  test.each([
    ["", "queue option", "got 0."],
    ["q".repeat(239), "queue option", "got 239."],
    ["amq.x", "--queue", "reserved by the broker; use another --queue."],
    ["amq.x", "queue option", "reserved by the broker; use another queue option."],
  ])("refuses %p, worded for %s", (name, option, words) => {
    expect(queueNameProblem(name, option)).toEndWith(words);
  });
});
