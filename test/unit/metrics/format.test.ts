import { describe, expect, test } from "bun:test";
import { checkNames, escapeHelp, escapeLabelValue, formatLabels, formatNumber } from "../../../src/metrics/format.ts";

describe("escapeLabelValue", () => {
  test.each([
    ["plain", "plain"],
    ["", ""],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\tmp", "C:\\\\tmp"],
    ["two\nlines", "two\\nlines"],
    ['\\"', '\\\\\\"'],
    ["\\n", "\\\\n"],
    ["tab\there", "tab\there"],
    ["ünïcödé ✓", "ünïcödé ✓"],
  ])("%p -> %p", (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
  });
});

describe("escapeHelp", () => {
  test.each([
    ["Tasks done.", "Tasks done."],
    ['a "quote" stays', 'a "quote" stays'],
    ["back\\slash", "back\\\\slash"],
    ["new\nline", "new\\nline"],
  ])("%p -> %p", (text, escaped) => {
    expect(escapeHelp(text)).toBe(escaped);
  });
});

describe("formatNumber", () => {
  test.each([
    [0, "0"],
    [3, "3"],
    [-1, "-1"],
    [0.005, "0.005"],
    [2.5, "2.5"],
    [1e21, "1e+21"],
    [1e-7, "1e-7"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ])("%p -> %p", (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe("formatLabels", () => {
  test.each<[string, Array<[string, string]>]>([
    ["", []],
    ['{queue="q"}', [["queue", "q"]]],
    [
      '{queue="a\\"b",le="+Inf"}',
      [
        ["queue", 'a"b'],
        ["le", "+Inf"],
      ],
    ],
  ])("renders %p", (text, pairs) => {
    expect(formatLabels(pairs)).toBe(text);
  });
});

describe("checkNames", () => {
  test.each<[string, string[]]>([
    ["taskq_up", []],
    ["ns:sub_total", ["queue", "_x"]],
  ])("accepts %p %p", (name, labels) => {
    expect(() => checkNames(name, labels)).not.toThrow();
  });

  test.each<[string, string[]]>([
    ["1abc", []],
    ["with-dash", []],
    ["ok", ["bad-label"]],
    ["ok", ["__reserved"]],
    ["ok", ["a", "a"]],
  ])("rejects %p %p", (name, labels) => {
    expect(() => checkNames(name, labels)).toThrow();
  });
});
