import { expect, test } from "bun:test";
import { statusJson } from "../../../src/commands/status-json.ts";
import { statusTable } from "../../../src/commands/status-view.ts";
import type { QueueStatus } from "../../../src/core/admin/queue-status.ts";

// A quorum dead queue before RabbitMQ 4.3 is sampled only up to REASON_SAMPLE tasks (a look moves
// them all round): past that, status says why it shows no reasons, in the table and in --json.
const WHY =
  "a look at this quorum queue before RabbitMQ 4.3 moves every task once round (a hand-back would count toward its delivery limit); 101 are more than 100";
const status: QueueStatus = {
  queue: "jobs",
  exists: true,
  ready: 0,
  consumers: 1,
  retries: [],
  delays: [],
  dead: {
    queue: "jobs.dead",
    exists: true,
    ready: 101,
    consumers: 0,
    oldest: undefined,
    reasons: [],
    sampled: 0,
    unsampled: WHY,
  },
  source: "amqp",
};

test("an unsampled dead queue: one line in the table that says why, and `unsampled` in --json", () => {
  const at = Date.parse("2026-01-02T03:04:05.000Z");
  expect(statusTable({ at, status })).toContain(`dead tasks not sampled: ${WHY} ('taskq dead list' shows them)`);
  expect(statusJson({ at, status })).toMatchObject({ dead: { ready: 101, sampled: 0, reasons: [], unsampled: WHY } });
});
