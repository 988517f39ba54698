import { describe, expect, test } from "bun:test";
import { cutHead, cutTail } from "../../../../src/core/failures/cut-text.ts";

const bytes = (s: string) => Buffer.byteLength(s);

describe("cutHead: a reason's first bytes, the cut said, within the budget", () => {
  test.each<[string, string, number, string]>([
    ["whole when it fits", "exit 2", 10, "exit 2"],
    ["whole at exactly the budget", "x".repeat(40), 40, "x".repeat(40)],
    ["cut, the count exact", "x".repeat(100), 40, `${"x".repeat(15)}… [cut: 85 bytes more]`],
    [
      "a 2-byte character the cut would split goes whole",
      `${"x".repeat(14)}é${"y".repeat(100)}`,
      40,
      `${"x".repeat(14)}… [cut: 102 bytes more]`,
    ],
    ["a budget too small for the note: the first bytes alone", "x".repeat(100), 10, "x".repeat(10)],
  ])("%s", (_name, text, max, expected) => {
    expect(cutHead(text, max)).toBe(expected);
    expect(bytes(cutHead(text, max))).toBeLessThanOrEqual(max);
  });

  test("the doc's example, and a count with separators", () => {
    expect(cutHead("x".repeat(70_000), 60)).toBe(`${"x".repeat(32)}… [cut: 69,968 bytes more]`);
  });

  test.each([100, 256, 4096])("any text, any cut point: within %i bytes, and the count adds up", (max) => {
    for (const text of ["a".repeat(5000), "é".repeat(3000), "😀x".repeat(2000)]) {
      const out = cutHead(text, max);
      expect(bytes(out)).toBeLessThanOrEqual(max);
      const [, head, cut] = /^([\s\S]*)… \[cut: ([\d,]+) bytes more\]$/.exec(out) ?? [];
      expect(text.startsWith(head as string)).toBe(true);
      expect(bytes(head as string) + Number(String(cut).replaceAll(",", ""))).toBe(bytes(text));
    }
  });
});

describe("cutTail: a stderr's last bytes, the cut said first, within the budget", () => {
  test.each<[string, string, number, string]>([
    ["whole when it fits", "oops\n", 10, "oops\n"],
    [
      "cut, the count exact (the note sized for the largest count: a byte to spare)",
      "x".repeat(100),
      40,
      `[cut: 87 bytes before] …${"x".repeat(13)}`,
    ],
    [
      "a 4-byte character the cut would split is left out",
      `${"y".repeat(100)}😀${"x".repeat(12)}`,
      40,
      `[cut: 104 bytes before] …${"x".repeat(12)}`,
    ],
    ["a budget too small for the note: the last bytes alone", "x".repeat(100), 10, "x".repeat(10)],
  ])("%s", (_name, text, max, expected) => {
    expect(cutTail(text, max)).toBe(expected);
    expect(bytes(cutTail(text, max))).toBeLessThanOrEqual(max);
  });

  test("the doc's example", () => {
    expect(cutTail("x".repeat(70_000), 60)).toBe(`[cut: 69,970 bytes before] …${"x".repeat(30)}`);
  });
});
