import { describe, expect, test } from "bun:test";
import type { MessageProperties } from "amqplib";
import { type CopyOf, MAX_STDERR_BYTES, REMOVED_HEADERS, makeCopy } from "../../../../src/core/failures/copy-table.ts";
import { ATTEMPT_HEADER, DEAD_HEADERS, DEATH_HEADER, DEFERRALS_HEADER, DELIVERY_COUNT_HEADER, LAST_ERROR_HEADER, STDERR_HEADER } from "../../../../src/core/headers.ts";

const properties = {
  messageId: "id-1",
  timestamp: 1700000000,
  contentType: "text/plain",
  deliveryMode: 2,
  userId: "guest",
  expiration: "5000",
  correlationId: undefined,
  headers: { custom: "kept", [DEATH_HEADER]: [{ count: 1 }], [DELIVERY_COUNT_HEADER]: 2, [ATTEMPT_HEADER]: 3, [LAST_ERROR_HEADER]: "exit 1", [DEAD_HEADERS.reason]: "boom", [DEFERRALS_HEADER]: 4, [STDERR_HEADER]: "an earlier attempt's stderr" },
} as unknown as MessageProperties;
const source = { queue: "jobs", body: Buffer.from("body"), attempt: 3, properties };

const cases: Array<[CopyOf, string]> = [
  [{ kind: "retry", levelMs: 4000, delayMs: 3500, nextAttempt: 4, deferrals: 0, reason: "exit 2" }, "jobs.retry.4000"],
  [{ kind: "dead", outcome: { ok: false, reason: "exit 2", exitCode: 2 } }, "jobs.dead"],
  [{ kind: "handBack" }, "jobs"],
  [{ kind: "requeue" }, "jobs"],
];

describe("makeCopy: one table of what each copy keeps, sets and removes", () => {
  test.each(cases)("%o goes to %s, with the body and the properties kept", (of, queue) => {
    const copy = makeCopy(source, of);
    expect(copy.queue).toBe(queue);
    expect(copy.body.toString()).toBe("body");
    expect(copy.properties).toMatchObject({ messageId: "id-1", timestamp: 1700000000, contentType: "text/plain" });
    // the publisher's delivery mode, the login's user id, no inherited expiry (a retry sets its own)
    expect(copy.properties).not.toHaveProperty("deliveryMode");
    expect(copy.properties).not.toHaveProperty("userId");
    expect(copy.properties).not.toHaveProperty("correlationId");
    expect(copy.properties.headers?.custom).toBe("kept");
    // a removed header is gone, or set anew by this kind of copy: never the task's old value
    for (const removed of REMOVED_HEADERS[of.kind].filter((h) => h in (properties.headers ?? {}))) expect(copy.properties.headers?.[removed]).not.toEqual((properties.headers as Record<string, unknown>)[removed]);
  });

  test("retry: next attempt, why, own expiry; no x-death or delivery count", () => {
    const { properties: p } = makeCopy(source, { kind: "retry", levelMs: 4000, delayMs: 3500, nextAttempt: 4, deferrals: 0, reason: "exit 2" });
    expect(p.expiration).toBe("3500");
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 4, [LAST_ERROR_HEADER]: "exit 2" });
    expect(p.headers).not.toHaveProperty(DEATH_HEADER);
    expect(p.headers).not.toHaveProperty(DELIVERY_COUNT_HEADER);
  });

  test("retry after 'not now' carries the deferral count", () => {
    const { properties: p } = makeCopy(source, { kind: "retry", levelMs: 1000, delayMs: 900, nextAttempt: 3, deferrals: 5, reason: "exit 75" });
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 3, [DEFERRALS_HEADER]: 5 });
  });

  test("hand-back keeps the attempt it had", () => {
    const { properties: p } = makeCopy(source, { kind: "handBack" });
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 3 });
    expect(p.expiration).toBeUndefined();
  });

  test("dead says why, where from and after how many attempts; keeps the history", () => {
    const { properties: p } = makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "exit 2", exitCode: 2 } });
    expect(p.headers).toMatchObject({ [DEAD_HEADERS.reason]: "exit 2", [DEAD_HEADERS.exitCode]: 2, [DEAD_HEADERS.signal]: null, [DEAD_HEADERS.queue]: "jobs", [DEAD_HEADERS.attempts]: 3 });
    expect(p.headers).toHaveProperty(DEATH_HEADER);
    expect(p.headers).not.toHaveProperty(DELIVERY_COUNT_HEADER);
  });

  test("requeue from dead: a clean slate (no dead, attempt, error, deferral or death headers)", () => {
    const { properties: p } = makeCopy(source, { kind: "requeue" });
    expect(p.headers).toEqual({ custom: "kept" });
  });

  describe("a failure's stderr tail", () => {
    const withStderr = { ok: false as const, reason: "exit 3", exitCode: 3, stderr: "bug: cannot parse file013.txt\n" };

    test("retry and dead copies carry this attempt's stderr", () => {
      expect(makeCopy(source, { kind: "retry", levelMs: 1000, delayMs: 900, nextAttempt: 4, deferrals: 0, reason: "exit 3", stderr: withStderr.stderr }).properties.headers?.[STDERR_HEADER]).toBe(withStderr.stderr);
      expect(makeCopy(source, { kind: "dead", outcome: withStderr }).properties.headers?.[STDERR_HEADER]).toBe(withStderr.stderr);
    });

    test("an attempt that wrote nothing leaves no earlier attempt's stderr behind", () => {
      expect(makeCopy(source, { kind: "retry", levelMs: 1000, delayMs: 900, nextAttempt: 4, deferrals: 0, reason: "exit 3" }).properties.headers).not.toHaveProperty(STDERR_HEADER);
      expect(makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "exit 3", exitCode: 3, stderr: "" } }).properties.headers).not.toHaveProperty(STDERR_HEADER);
    });

    test("a hand-back keeps it (no attempt was made); a requeue from dead clears it", () => {
      expect(makeCopy(source, { kind: "handBack" }).properties.headers?.[STDERR_HEADER]).toBe("an earlier attempt's stderr");
      expect(makeCopy(source, { kind: "requeue" }).properties.headers).not.toHaveProperty(STDERR_HEADER);
    });

    test("a library handler's long detail is cut to its last MAX_STDERR_BYTES, on a character", () => {
      const detail = `é${"x".repeat(MAX_STDERR_BYTES - 1)}`; // é is 2 bytes: the cut falls inside it
      const kept = makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "handler error", stderr: detail } }).properties.headers?.[STDERR_HEADER] as string;
      expect(kept).toBe("x".repeat(MAX_STDERR_BYTES - 1));
    });
  });
});
