import { describe, expect, test } from "bun:test";
import { LineLabeller } from "../../../src/handlers/output.ts";
import { TailBuffer } from "../../../src/handlers/stderr-tail.ts";
import { utf8Tail } from "../../../src/util/utf8-tail.ts";

const bytes = (s: string) => Buffer.from(s, "utf8");

describe("utf8Tail", () => {
  test.each<[string, string, number, string]>([
    ["all of it when short", "hello", 10, "hello"],
    ["the last bytes", "hello world", 5, "world"],
    ["nothing at 0", "hello", 0, ""],
    ["a cut 2-byte character dropped", "aé", 1, ""],
    ["a whole 2-byte character kept", "aé", 2, "é"],
    ["a cut 4-byte character dropped, the rest kept", "x😀yz", 4, "yz"],
    ["a whole 4-byte character kept", "x😀yz", 6, "😀yz"],
  ])("%s", (_name, text, max, expected) => {
    expect(utf8Tail(bytes(text), max)).toBe(expected);
    expect(utf8Tail(text, max)).toBe(expected);
  });
});

describe("TailBuffer", () => {
  test("nothing written: undefined", () => {
    expect(new TailBuffer(10).text()).toBeUndefined();
  });

  test("keeps everything under the limit, across chunks", () => {
    const t = new TailBuffer(100);
    for (const c of ["bug: ", "cannot parse ", "file013.txt\n"]) t.push(bytes(c));
    expect(t.text()).toBe("bug: cannot parse file013.txt\n");
  });

  test("keeps the last `limit` bytes of many chunks, whatever their sizes", () => {
    const t = new TailBuffer(8);
    let all = "";
    for (let i = 0; i < 200; i++) {
      const c = `${i},`.repeat(i % 5);
      all += c;
      t.push(bytes(c));
    }
    expect(t.text()).toBe(all.slice(-8));
  });

  test("a chunk larger than the limit alone", () => {
    const t = new TailBuffer(4);
    t.push(bytes("0123456789"));
    expect(t.text()).toBe("6789");
  });

  test("cut on a character: a split é is dropped", () => {
    const t = new TailBuffer(3);
    t.push(bytes("xxé"));
    t.push(bytes("ab"));
    expect(t.text()).toBe("ab");
  });

  test("limit 0 keeps nothing", () => {
    const t = new TailBuffer(0);
    t.push(bytes("secret"));
    expect(t.text()).toBeUndefined();
  });
});

describe("LineLabeller", () => {
  const run = (chunks: string[]) => {
    const l = new LineLabeller(bytes("[t1] "));
    const out = chunks.map((c) => l.apply(bytes(c))).filter((c) => c !== undefined);
    const last = l.end();
    return Buffer.concat([...out, ...(last ? [last] : [])]).toString();
  };

  test.each<[string, string[], string]>([
    ["one line", ["hello\n"], "[t1] hello\n"],
    ["lines in one chunk", ["a\nb\n"], "[t1] a\n[t1] b\n"],
    ["a line across chunks", ["he", "llo\nwor", "ld\n"], "[t1] hello\n[t1] world\n"],
    ["a partial last line, ended at the end", ["a\nno newline"], "[t1] a\n[t1] no newline\n"],
    ["an empty line", ["\n"], "[t1] \n"],
    ["nothing", [], ""],
  ])("%s", (_name, chunks, expected) => {
    expect(run(chunks)).toBe(expected);
  });

  test("a partial line is held until it ends (lines of tasks run at once never mix)", () => {
    const l = new LineLabeller(bytes("[t1] "));
    expect(l.apply(bytes("half"))).toBeUndefined();
    expect(Buffer.from(l.apply(bytes(" done\n")) ?? []).toString()).toBe("[t1] half done\n");
  });

  test("a partial line past 64 KiB goes out without waiting for its end", () => {
    const l = new LineLabeller(bytes("[t1] "));
    const out = l.apply(bytes("x".repeat(70_000)));
    expect(Buffer.from(out ?? []).toString()).toBe(`[t1] ${"x".repeat(70_000)}\n`);
    expect(l.end()).toBeUndefined();
  });
});
