import { describe, expect, test } from "bun:test";
import {
  type WorkerReport,
  isRefusal,
  parseReport,
  refusalDetail,
} from "../../../../src/core/topology/reports-exchange.ts";

const report: WorkerReport = {
  worker: "web-1:4242",
  host: "web-1",
  pid: 4242,
  queue: "emails",
  startedAt: 1_000,
  at: 5_000,
  intervalMs: 2000,
  state: "running",
  concurrency: 2,
  prefetch: 2,
  counts: { done: 3, retried: 1, dead: 0, handedBack: 0, lost: 0 },
  tasks: [{ id: null, attempt: 2, startedAt: 4_000 }],
};
const wire = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("parseReport", () => {
  test("a report, as a worker sends it, reads back the same", () => {
    expect(parseReport(wire(report))).toEqual(report);
    expect(parseReport(wire({ ...report, prefetch: "auto", state: "stopped" }))?.prefetch).toBe("auto");
  });

  test.each<[string, unknown]>([
    ["not JSON", "not json"],
    ["null", null],
    ["an array", [report]],
    ["no worker", { ...report, worker: undefined }],
    ["a pid that is text", { ...report, pid: "4242" }],
    ["an unknown state", { ...report, state: "sleeping" }],
    ["an interval of 0 (would never age out)", { ...report, intervalMs: 0 }],
    ["a prefetch that is neither a number nor auto", { ...report, prefetch: "many" }],
    ["a negative count", { ...report, counts: { ...report.counts, dead: -1 } }],
    ["a missing count", { ...report, counts: { done: 1 } }],
    ["tasks that are not a list", { ...report, tasks: {} }],
    ["a task id that is a number", { ...report, tasks: [{ id: 7, attempt: 1, startedAt: 1 }] }],
  ])("anything else is left out: %s", (_name, value) => {
    expect(parseReport(typeof value === "string" ? Buffer.from(value) : wire(value))).toBeUndefined();
  });
});

describe("refusals", () => {
  const amqplib406 = Object.assign(
    new Error(
      `Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'taskq.workers' in vhost '/': received 'topic' but current is 'direct'"`,
    ),
    { code: 406 },
  );
  test.each<[string, unknown, boolean]>([
    ["406, an exchange of another type", amqplib406, true],
    ["403, access refused", Object.assign(new Error("ACCESS_REFUSED - no access"), { code: 403 }), true],
    ["a lost connection", new Error("Connection closed"), false],
    ["320, the broker shutting down", Object.assign(new Error("CONNECTION_FORCED"), { code: 320 }), false],
  ])("%s: refused for good is %p", (_name, err, refused) => {
    expect(isRefusal(err)).toBe(refused);
  });

  test("the broker's own words, without amqplib's wrapping", () => {
    expect(refusalDetail(amqplib406)).toBe(
      "inequivalent arg 'type' for exchange 'taskq.workers' in vhost '/': received 'topic' but current is 'direct'",
    );
  });
});
