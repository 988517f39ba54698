import { describe, expect, test } from "bun:test";
import type { MessageProperties } from "amqplib";
import { DROPPED_HEADER, fitCopy, makeCopy } from "../../../../src/core/failures/copy-table.ts";
import { AMQPLIB_TABLE_BYTES, headerTableLimit, tableBytes } from "../../../../src/core/failures/header-bytes.ts";
import { ATTEMPT_HEADER, LAST_ERROR_HEADER, STDERR_HEADER } from "../../../../src/core/headers.ts";

// The copier fits each copy to the frame its connection negotiated (copier.ts, fitCopy): the
// broker closes a connection on a header frame past frame_max (header-frame.test.ts).

const source = (headers: Record<string, unknown>) => ({
  body: Buffer.from("t"),
  queue: "q",
  attempt: 1,
  properties: { messageId: "m", headers } as unknown as MessageProperties,
});

const retry = (stderr: string) =>
  ({ kind: "retry", levelMs: 1000, delayMs: 1000, nextAttempt: 2, deferrals: 0, reason: "boom", stderr }) as const;

describe("fitCopy", () => {
  test("a copy that fits is itself", () => {
    const copy = makeCopy(source({ tenant: "a" }), retry("short"));
    expect(fitCopy(copy, headerTableLimit(8192))).toBe(copy);
  });

  test.each([
    ["a 30 kB stderr tail", {}, "e".repeat(30_000), undefined],
    ["20 kB of the task's own headers", { big: "x".repeat(20_000), small: "kept" }, "short", ["big"]],
  ])("at frame_max 8,192, %s: cut to 5,600 bytes, taskq's counters kept, the cut said", (_, own, stderr, dropped) => {
    const copy = makeCopy(source(own), retry(stderr));
    expect(tableBytes(copy.properties.headers ?? {})).toBeGreaterThan(headerTableLimit(8192));
    const fit = fitCopy(copy, headerTableLimit(8192));
    const headers = fit.properties.headers ?? {};
    expect(tableBytes(headers)).toBeLessThanOrEqual(5600);
    expect(headers[ATTEMPT_HEADER]).toBe(2);
    expect(headers[LAST_ERROR_HEADER]).toBe("boom");
    expect(String(headers[DROPPED_HEADER])).toContain("5,600 bytes of headers the connection's frame_max leaves");
    expect(fit.dropped).toEqual(dropped);
    if (dropped === undefined) expect(headers[STDERR_HEADER]).toBeUndefined();
    else expect(headers.small).toBe("kept");
    expect(fit.queue).toBe("q.retry.1000");
    expect(fit.properties.expiration).toBe("1000");
  });

  test("at RabbitMQ's default frame_max amqplib's table binds", () => {
    expect(headerTableLimit(131_072)).toBe(AMQPLIB_TABLE_BYTES);
  });
});
