import { describe, expect, test } from "bun:test";
import { headerNumber } from "../../../src/core/headers.ts";

describe("headerNumber: a number from a header value, as other clients write them", () => {
  test.each<[string, unknown, number | undefined]>([
    ["a number", 3, 3],
    ["a negative fraction", -1.5, -1.5],
    ["a bigint", 5n, 5],
    ["a numeric string", "2", 2],
    ["a padded numeric string", " 7 ", 7],
    ["a blank string", "  ", undefined],
    ["an empty string", "", undefined],
    ["a word", "abc", undefined],
    ["NaN", Number.NaN, undefined],
    ["Infinity", Number.POSITIVE_INFINITY, undefined],
    ["a boolean", true, undefined],
    ["null", null, undefined],
    ["undefined", undefined, undefined],
    ["a Buffer", Buffer.from("4"), undefined],
  ])("%s", (_label, value, expected) => {
    expect(headerNumber(value)).toBe(expected);
  });
});
