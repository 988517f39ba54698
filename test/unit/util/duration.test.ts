import { describe, expect, test } from "bun:test";
import { durationText, formatMs, parseDuration } from "../../../src/util/duration.ts";
import { expectUsageError } from "../usage-error.ts";

describe("parseDuration", () => {
  test.each([
    ["500ms", 500],
    ["250ms", 250],
    ["1.5s", 1500],
    ["2s", 2000],
    ["0.25s", 250],
    ["2m", 120_000],
    ["1.5m", 90_000],
    ["1h", 3_600_000],
    ["0.5h", 1_800_000],
    ["750", 750],
    ["0", 0],
    ["0ms", 0],
    ["1.4", 1],
    ["1.6", 2],
    ["  3s  ", 3000],
    ["2 m", 120_000],
  ])("parseDuration(%p) = %p ms", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  test.each([
    ["abc"],
    ["-1s"],
    [""],
    ["   "],
    ["1e3"],
    [".5s"],
    ["5.s"],
    ["1H"],
    ["1d"],
    ["s"],
    ["1s2"],
    ["1 s 2"],
    ["10sec"],
  ])("rejects %p as a usage error", (text) => {
    const error = expectUsageError(() => parseDuration(text));
    expect(error.message).toContain(`'${text}'`);
  });

  test("names what was being parsed in the message", () => {
    const error = expectUsageError(() => parseDuration("soon", "--idle-exit"));
    expect(error.message.startsWith("--idle-exit: ")).toBe(true);
  });

  test("rejects a number too large to be finite", () => {
    const huge = `${"9".repeat(400)}h`;
    const error = expectUsageError(() => parseDuration(huge));
    expect(error.message).toContain("out of range");
  });
});

describe("formatMs", () => {
  test.each([
    [0, "0.00ms"],
    [1.234, "1.23ms"],
    [5, "5.00ms"],
    [10, "10ms"],
    [12.4, "12ms"],
    [500, "500ms"],
    [999.4, "999ms"],
    [1000, "1.00s"],
    [1234, "1.23s"],
    [1500, "1.50s"],
    [65_000, "65.00s"],
  ])("formatMs(%p) = %p", (ms, expected) => {
    expect(formatMs(ms)).toBe(expected);
  });
});

describe("durationText (help defaults, in the flag's own syntax)", () => {
  test.each([
    [300_000, "5m"],
    [60_000, "1m"],
    [30_000, "30s"],
    [5000, "5s"],
    [1500, "1500ms"],
    [250, "250ms"],
    [0, "0ms"],
    [7_200_000, "2h"],
    [90_000, "90s"],
  ])("durationText(%p) = %p", (ms, expected) => {
    expect(durationText(ms)).toBe(expected);
    expect(parseDuration(expected)).toBe(ms);
  });
});
