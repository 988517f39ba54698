import { describe, expect, test } from "bun:test";
import { AMQPLIB_TABLE_BYTES, UNENCODABLE, tableBytes } from "../../../../src/core/failures/header-bytes.ts";
import { encodeHeaderFrame, encodedTableBytes } from "../../../support/amqplib-encoder.ts";

const stamp = { "!": "timestamp", value: 1_700_000_000 };

describe("tableBytes: what amqplib's own encoder writes for a headers table, byte for byte", () => {
  test.each<[string, Record<string, unknown>]>([
    ["nothing", {}],
    ["text, UTF-8", { a: "plain", "é-key": "héllo 😀" }],
    [
      "numbers of each width amqplib picks",
      {
        b: 127,
        nb: -128,
        s: 128,
        ns: -129,
        i: 40_000,
        ni: -40_000,
        l: 2 ** 40,
        nl: -(2 ** 40),
        huge: 2 ** 64,
        f: 1.5,
        nf: -0.25,
        z: 0,
      },
    ],
    ["booleans, null, undefined (skipped)", { t: true, f: false, n: null, u: undefined }],
    ["bytes", { x: Buffer.from([1, 2, 3]) }],
    ["arrays and tables within", { arr: [1, "two", [3], { four: 4 }], table: { nested: { deeper: "yes" } } }],
    [
      "typed values as amqplib decodes them",
      {
        t: stamp,
        d: { "!": "decimal", value: { places: 2, digits: 1234 } },
        f: { "!": "float", value: 1.5 },
        u: { "!": "uint32", value: 7 },
      },
    ],
    [
      "an x-death history as the broker sends it",
      {
        "x-death": [
          {
            count: 3,
            reason: "expired",
            queue: "jobs.retry.1000",
            time: stamp,
            exchange: "",
            "routing-keys": ["jobs.retry.1000"],
            "original-expiration": "900",
          },
        ],
      },
    ],
    ["a 60 KB value", { big: "b".repeat(60_000) }],
  ])("%s", (_name, table) => {
    expect(tableBytes(table)).toBe(encodedTableBytes(table));
  });

  test.each<[string, Record<string, unknown>]>([
    ["a bigint", { n: 10n }],
    ["undefined in an array", { a: [1, undefined] }],
    ["a function", { f: () => 1 }],
    ["NaN (amqplib tries it as a 64-bit integer)", { n: Number.NaN }],
    ["-Infinity", { n: Number.NEGATIVE_INFINITY }],
    ["a key over 255 bytes", { ["k".repeat(256)]: 1 }],
    ["an unknown typed value", { v: { "!": "uuid", value: "x" } }],
  ])("Infinity where amqplib throws: %s", (_name, table) => {
    expect(tableBytes(table)).toBe(Infinity);
    expect(() => encodedTableBytes(table)).toThrow();
  });

  test("the limit is amqplib's: a table of AMQPLIB_TABLE_BYTES encodes, one byte more throws its RangeError", () => {
    const overhead = tableBytes({ big: "" });
    const fits = { big: "b".repeat(AMQPLIB_TABLE_BYTES - overhead) };
    expect(tableBytes(fits)).toBe(AMQPLIB_TABLE_BYTES);
    expect(() => encodeHeaderFrame({ headers: fits })).not.toThrow();
    const over = { big: "b".repeat(AMQPLIB_TABLE_BYTES - overhead + 1) };
    let error: Error | undefined;
    try {
      encodeHeaderFrame({ headers: over });
    } catch (err) {
      error = err as Error;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error?.message).toMatch(UNENCODABLE);
    expect(error?.message).toContain(`exceeds the ${AMQPLIB_TABLE_BYTES} byte encoding buffer`);
  });

  test("UNENCODABLE also names amqplib's error for a value of no AMQP type", () => {
    expect(() => encodeHeaderFrame({ headers: { n: 10n } })).toThrow(UNENCODABLE);
  });
});
