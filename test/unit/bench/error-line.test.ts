import { expect, test } from "bun:test";
import { errorLine } from "../../../src/bench/workers.ts";

// What a bench says when one of its workers exits by itself: the worker's own error, not the last frame of a stack.
test.each<[string, string, string]>([
  ["a one-line error", " [*] Waiting for tasks\ntaskq: cannot reach the broker\n", "taskq: cannot reach the broker"],
  [
    "taskq's internal error with its stack",
    "taskq: internal error (a bug, please report it):\nError: EAGAIN: resource temporarily unavailable, write\n    at <anonymous> (/$bunfs/root/taskq:15841:38)\n    at processTicksAndRejections (native:7:39)\n",
    "Error: EAGAIN: resource temporarily unavailable, write",
  ],
  ["a blank line before the frames", "Error: boom\n\n    at a (x.ts:1:1)\n", "Error: boom"],
  [
    "Bun's own crash report, its last line the version",
    "error: boom\n    at a (x.ts:1:1)\n\nBun v1.4.4 (Linux x64)\n",
    "error: boom",
  ],
  ["nothing but frames", "    at a (x.ts:1:1)\n", "at a (x.ts:1:1)"],
  ["nothing", "", ""],
])("errorLine: %s", (_, stderr, line) => {
  expect(errorLine(stderr)).toBe(line);
});
