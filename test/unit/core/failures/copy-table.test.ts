import { describe, expect, test } from "bun:test";
import type { MessageProperties } from "amqplib";
import {
  type CopyOf,
  DROPPED_HEADER,
  MAX_STDERR_BYTES,
  REMOVED_HEADERS,
  bareCopy,
  makeCopy,
} from "../../../../src/core/failures/copy-table.ts";
import { encodeHeaderFrame } from "../../../support/amqplib-encoder.ts";
import {
  ATTEMPT_HEADER,
  DEAD_HEADERS,
  DEATH_HEADER,
  DEFERRALS_HEADER,
  DELIVERY_COUNT_HEADER,
  LAST_ERROR_HEADER,
  REDELIVERIES_HEADER,
  STDERR_HEADER,
} from "../../../../src/core/headers.ts";

const properties = {
  messageId: "id-1",
  timestamp: 1700000000,
  contentType: "text/plain",
  deliveryMode: 2,
  userId: "guest",
  expiration: "5000",
  correlationId: undefined,
  headers: {
    custom: "kept",
    [DEATH_HEADER]: [{ count: 1 }],
    [DELIVERY_COUNT_HEADER]: 2,
    [ATTEMPT_HEADER]: 3,
    [LAST_ERROR_HEADER]: "exit 1",
    [DEAD_HEADERS.reason]: "boom",
    [DEFERRALS_HEADER]: 4,
    [STDERR_HEADER]: "an earlier attempt's stderr",
  },
} as unknown as MessageProperties;
const source = { queue: "jobs", body: Buffer.from("body"), attempt: 3, properties };

const cases: Array<[CopyOf, string]> = [
  [{ kind: "retry", levelMs: 4000, delayMs: 3500, nextAttempt: 4, deferrals: 0, reason: "exit 2" }, "jobs.retry.4000"],
  [{ kind: "dead", outcome: { ok: false, reason: "exit 2", exitCode: 2 } }, "jobs.dead"],
  [{ kind: "handBack" }, "jobs"],
  [{ kind: "cameBack", redeliveries: 2 }, "jobs"],
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
    for (const removed of REMOVED_HEADERS[of.kind].filter((h) => h in (properties.headers ?? {})))
      expect(copy.properties.headers?.[removed]).not.toEqual((properties.headers as Record<string, unknown>)[removed]);
  });

  test("retry: next attempt, why, own expiry; no x-death or delivery count", () => {
    const { properties: p } = makeCopy(source, {
      kind: "retry",
      levelMs: 4000,
      delayMs: 3500,
      nextAttempt: 4,
      deferrals: 0,
      reason: "exit 2",
    });
    expect(p.expiration).toBe("3500");
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 4, [LAST_ERROR_HEADER]: "exit 2" });
    expect(p.headers).not.toHaveProperty(DEATH_HEADER);
    expect(p.headers).not.toHaveProperty(DELIVERY_COUNT_HEADER);
  });

  test("retry after 'not now' carries the deferral count", () => {
    const { properties: p } = makeCopy(source, {
      kind: "retry",
      levelMs: 1000,
      delayMs: 900,
      nextAttempt: 3,
      deferrals: 5,
      reason: "exit 75",
    });
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 3, [DEFERRALS_HEADER]: 5 });
  });

  test("came back: the attempt it had and its count of returns; no broker count carried on", () => {
    const { properties: p } = makeCopy(
      { ...source, properties: { ...properties, headers: { ...properties.headers, "x-acquired-count": 3 } } },
      { kind: "cameBack", redeliveries: 2 },
    );
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 3, [REDELIVERIES_HEADER]: 2, custom: "kept" });
    expect(p.headers).not.toHaveProperty(DELIVERY_COUNT_HEADER);
    expect(p.headers).not.toHaveProperty("x-acquired-count");
    expect(p.expiration).toBeUndefined();
  });

  test.each<[string, Parameters<typeof makeCopy>[1], number | undefined]>([
    ["a hand-back keeps it", { kind: "handBack" }, 2],
    ["a dead copy says it", { kind: "dead", outcome: { ok: false, reason: "exit 2" } }, 2],
    [
      "a retry ends the run of returns (an attempt ended)",
      { kind: "retry", levelMs: 1000, delayMs: 900, nextAttempt: 4, deferrals: 0, reason: "exit 2" },
      undefined,
    ],
    ["a requeue starts clean", { kind: "requeue" }, undefined],
  ])("the count of returns (2 on the task): %s", (_label, of, kept) => {
    const copy = makeCopy(
      {
        ...source,
        redeliveries: 2,
        properties: { ...properties, headers: { ...properties.headers, [REDELIVERIES_HEADER]: 1 } },
      },
      of,
    );
    expect(copy.properties.headers?.[REDELIVERIES_HEADER]).toBe(kept);
  });

  test("hand-back keeps the attempt it had", () => {
    const { properties: p } = makeCopy(source, { kind: "handBack" });
    expect(p.headers).toMatchObject({ [ATTEMPT_HEADER]: 3 });
    expect(p.expiration).toBeUndefined();
  });

  test("dead says why, where from and after how many attempts; keeps the history", () => {
    const { properties: p } = makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "exit 2", exitCode: 2 } });
    expect(p.headers).toMatchObject({
      [DEAD_HEADERS.reason]: "exit 2",
      [DEAD_HEADERS.exitCode]: 2,
      [DEAD_HEADERS.signal]: null,
      [DEAD_HEADERS.queue]: "jobs",
      [DEAD_HEADERS.attempts]: 3,
    });
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
      expect(
        makeCopy(source, {
          kind: "retry",
          levelMs: 1000,
          delayMs: 900,
          nextAttempt: 4,
          deferrals: 0,
          reason: "exit 3",
          stderr: withStderr.stderr,
        }).properties.headers?.[STDERR_HEADER],
      ).toBe(withStderr.stderr);
      expect(makeCopy(source, { kind: "dead", outcome: withStderr }).properties.headers?.[STDERR_HEADER]).toBe(
        withStderr.stderr,
      );
    });

    test("an attempt that wrote nothing leaves no earlier attempt's stderr behind", () => {
      expect(
        makeCopy(source, { kind: "retry", levelMs: 1000, delayMs: 900, nextAttempt: 4, deferrals: 0, reason: "exit 3" })
          .properties.headers,
      ).not.toHaveProperty(STDERR_HEADER);
      expect(
        makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "exit 3", exitCode: 3, stderr: "" } }).properties
          .headers,
      ).not.toHaveProperty(STDERR_HEADER);
    });

    test("a hand-back keeps it (no attempt was made); a requeue from dead clears it", () => {
      expect(makeCopy(source, { kind: "handBack" }).properties.headers?.[STDERR_HEADER]).toBe(
        "an earlier attempt's stderr",
      );
      expect(makeCopy(source, { kind: "requeue" }).properties.headers).not.toHaveProperty(STDERR_HEADER);
    });

    test("a library handler's long detail is cut to its last bytes, at most MAX_STDERR_BYTES with the cut said, on a character", () => {
      const detail = `é${"x".repeat(MAX_STDERR_BYTES - 1)}`; // é is 2 bytes: one byte too many
      const kept = makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "handler error", stderr: detail } })
        .properties.headers?.[STDERR_HEADER] as string;
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(MAX_STDERR_BYTES);
      expect(kept).toMatch(/^\[cut: \d+ bytes before\] …x+$/);
      const cut = Number(/\d+/.exec(kept)?.[0]);
      expect(cut + Buffer.byteLength(kept.slice(kept.indexOf("…") + 1))).toBe(Buffer.byteLength(detail)); // the count is exact
    });

    test("a detail that fits is kept whole, with no note", () => {
      const detail = "x".repeat(MAX_STDERR_BYTES);
      expect(
        makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "handler error", stderr: detail } }).properties
          .headers?.[STDERR_HEADER],
      ).toBe(detail);
    });
  });
});

describe("every copy is one amqplib can encode (its field tables: 65,536 bytes at most), so none is retried for ever", () => {
  const bare = {
    queue: "jobs",
    body: Buffer.from("body"),
    attempt: 1,
    properties: { headers: {} } as unknown as MessageProperties,
  };
  const withOwn = (own: Record<string, unknown>, attempt = 1) => ({
    ...bare,
    attempt,
    properties: { messageId: "id-9", headers: own } as unknown as MessageProperties,
  });
  const retry = (reason: string, stderr?: string): CopyOf => ({
    kind: "retry",
    levelMs: 1000,
    delayMs: 900,
    nextAttempt: 2,
    deferrals: 0,
    reason,
    ...(stderr !== undefined ? { stderr } : {}),
  });
  const dead = (reason: string, stderr?: string): CopyOf => ({
    kind: "dead",
    outcome: { ok: false, reason, ...(stderr !== undefined ? { stderr } : {}) },
  });
  const headersOf = (copy: { properties: { headers?: Record<string, unknown> } }) => copy.properties.headers ?? {};

  test("a library error of 200 KB: its retry and dead copies encode, the reason cut to its first bytes with the cut said", () => {
    const reason = `handler error: ${"x".repeat(200_000)}`;
    for (const of of [retry(reason), dead(reason)]) {
      const copy = makeCopy(bare, of);
      expect(() => encodeHeaderFrame(copy.properties)).not.toThrow();
      const kept = String(headersOf(copy)[of.kind === "retry" ? LAST_ERROR_HEADER : DEAD_HEADERS.reason]);
      expect(kept).toStartWith("handler error: xxx");
      expect(kept).toMatch(/… \[cut: [\d,]+ bytes more\]$/);
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(4096);
    }
  });

  test("the dead copy of a task whose last retry said 40 KB, failing with 40 KB again, encodes (it carries both)", () => {
    const copy = makeCopy(
      withOwn({ [ATTEMPT_HEADER]: 2, [LAST_ERROR_HEADER]: "e".repeat(40_000) }, 2),
      dead("d".repeat(40_000), "s".repeat(40_000)),
    );
    expect(() => encodeHeaderFrame(copy.properties)).not.toThrow();
    expect(String(headersOf(copy)[LAST_ERROR_HEADER])).toContain("[cut: ");
    expect(String(headersOf(copy)[DEAD_HEADERS.reason])).toContain("[cut: ");
    expect(headersOf(copy)[DEAD_HEADERS.attempts]).toBe(2);
  });

  test("a task with 60 KB of its own headers, failing with a 32 KiB stderr and an 8 KB reason: encodes, its own headers kept whole; the stderr left out, said", () => {
    const own = { big: "b".repeat(60_000), tenant: "a" };
    for (const of of [
      retry("r".repeat(8000), "s".repeat(MAX_STDERR_BYTES)),
      dead("r".repeat(8000), "s".repeat(MAX_STDERR_BYTES)),
    ]) {
      const copy = makeCopy(withOwn(own), of);
      expect(() => encodeHeaderFrame(copy.properties)).not.toThrow();
      expect(headersOf(copy)).toMatchObject(own);
      expect(headersOf(copy)).not.toHaveProperty(STDERR_HEADER);
      expect(String(headersOf(copy)["x-taskq-dropped"])).toContain(STDERR_HEADER);
      expect(copy.dropped).toBeUndefined(); // none of the task's own
    }
  });

  test("a task published by another client with a 65,500-byte header: its copies encode without it, said in a small header; the attempt kept", () => {
    const own = { big: "b".repeat(65_500), tenant: "a" };
    expect(() => encodeHeaderFrame({ headers: own })).not.toThrow(); // it could be published
    for (const of of [retry("boom"), dead("boom"), { kind: "handBack" } as CopyOf]) {
      const copy = makeCopy(withOwn(own), of);
      expect(() => encodeHeaderFrame(copy.properties)).not.toThrow();
      expect(headersOf(copy)).not.toHaveProperty("big");
      expect(headersOf(copy).tenant).toBe("a"); // only what had to go
      expect(copy.dropped).toEqual(["big"]);
      const note = String(headersOf(copy)["x-taskq-dropped"]);
      expect(note).toContain("big (65,5");
      expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    }
    expect(headersOf(makeCopy(withOwn(own), retry("boom")))[ATTEMPT_HEADER]).toBe(2);
    // A requeue from dead adds nothing: what was published whole goes back whole.
    const requeued = makeCopy(withOwn(own), { kind: "requeue" });
    expect(headersOf(requeued)).toEqual(own);
    expect(requeued.dropped).toBeUndefined();
  });

  test("what an earlier copy left out is still said when this one leaves out more", () => {
    const retried = makeCopy(withOwn({ big: "b".repeat(65_500), mid: "m".repeat(30_000) }), retry("boom"));
    expect(retried.dropped).toEqual(["big"]);
    const delivered = withOwn({ ...headersOf(retried), huge: "h".repeat(40_000) }, 2);
    const deadCopy = makeCopy(delivered, dead("boom", "s".repeat(MAX_STDERR_BYTES)));
    expect(() => encodeHeaderFrame(deadCopy.properties)).not.toThrow();
    const note = String(headersOf(deadCopy)[DROPPED_HEADER]);
    expect(note).toMatch(
      /^left out to fit the 65,536 bytes of headers amqplib can send: big \(65,509 bytes\); then: x-taskq-stderr \([\d,]+ bytes\), huge \(40,010 bytes\)$/,
    );
    expect(deadCopy.dropped).toEqual(["huge"]);
    expect(headersOf(deadCopy).mid).toBe("m".repeat(30_000));
  });

  test.each<[string, Record<string, unknown>]>([
    ["nothing", {}],
    ["a 100 KB header (the broker's frame_max allows it; amqplib decodes it)", { huge: "h".repeat(100_000) }],
    ["2,000 small headers", Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`h${i}`, "v".repeat(40)]))],
    [
      "an x-death history of 10 hops, 255-byte names",
      {
        [DEATH_HEADER]: Array.from({ length: 10 }, (_, i) => ({
          count: 1,
          reason: "expired",
          queue: `${"q".repeat(240)}.retry.${i}`,
          time: { "!": "timestamp", value: 1_700_000_000 },
          exchange: "",
          "routing-keys": ["r".repeat(255)],
        })),
        big: "b".repeat(60_000),
      },
    ],
    ["a value amqplib cannot encode", { odd: 10n, fine: 1 }],
  ])("own headers: %s; every kind of copy, with a 200 KB reason and stderr, encodes", (_name, own) => {
    const long = "z".repeat(200_000);
    for (const of of [
      retry(long, long),
      dead(long, long),
      { kind: "handBack" } as CopyOf,
      { kind: "requeue" } as CopyOf,
    ]) {
      const copy = makeCopy(withOwn({ ...own, [LAST_ERROR_HEADER]: long, [STDERR_HEADER]: long }, 3), of);
      expect(() => encodeHeaderFrame(copy.properties, copy.body.length)).not.toThrow();
    }
  });
});

describe("bareCopy: the last resort for a copy amqplib refused anyway", () => {
  test("keeps taskq's counts and short texts only (under 4 KiB whatever came in), says what went", () => {
    const huge = "h".repeat(100_000);
    const source = {
      queue: "jobs",
      body: Buffer.from("b"),
      attempt: 2,
      properties: {
        messageId: "id-3",
        headers: { tenant: huge, "x-taskq-foreign": huge, [DEATH_HEADER]: [{ count: 1 }], [LAST_ERROR_HEADER]: huge },
      } as unknown as MessageProperties,
    };
    const copy = makeCopy(source, {
      kind: "dead",
      outcome: { ok: false, reason: huge, signal: huge, exitCode: Number.NaN, stderr: huge },
    });
    const bare = bareCopy(copy);
    expect(() => encodeHeaderFrame(bare.properties)).not.toThrow();
    expect(encodeHeaderFrame(bare.properties).length).toBeLessThan(4096 + 200);
    expect(bare.properties.headers).toMatchObject({ [DEAD_HEADERS.attempts]: 2, [DEAD_HEADERS.queue]: "jobs" });
    expect(bare.properties.headers).not.toHaveProperty(DEAD_HEADERS.exitCode); // NaN: no AMQP type
    expect(bare.properties.messageId).toBe("id-3");
    expect(bare.dropped).toEqual(["tenant"]);
    expect(String(bare.properties.headers?.[DROPPED_HEADER])).toContain("x-taskq-foreign (");
  });

  test("a library handler's 100 KB signal text is cut like a reason", () => {
    const copy = makeCopy(source, { kind: "dead", outcome: { ok: false, reason: "r", signal: "s".repeat(100_000) } });
    expect(() => encodeHeaderFrame(copy.properties)).not.toThrow();
    expect(String(copy.properties.headers?.[DEAD_HEADERS.signal])).toMatch(/\[cut: [\d,]+ bytes more\]$/);
  });
});
