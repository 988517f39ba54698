import { describe, expect, test } from "bun:test";
import { readLines } from "../../../src/util/lines.ts";

async function* chunksOf(...chunks: (string | number[] | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    yield typeof chunk === "string"
      ? new TextEncoder().encode(chunk)
      : chunk instanceof Uint8Array
        ? chunk
        : Uint8Array.from(chunk);
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const lines: Buffer[] = [];
  for await (const line of readLines(source)) lines.push(line);
  return lines;
}

async function linesAsText(...chunks: string[]): Promise<string[]> {
  return (await collect(chunksOf(...chunks))).map((line) => line.toString("utf8"));
}

describe("readLines", () => {
  test.each<[string, string[], string[]]>([
    ["one chunk, trailing newline", ["a\nb\nc\n"], ["a", "b", "c"]],
    ["no trailing newline", ["a\nb"], ["a", "b"]],
    ["single line without newline", ["hello"], ["hello"]],
    ["line split across chunks", ["hel", "lo\nwor", "ld\n"], ["hello", "world"]],
    ["one line over many one-byte chunks", ["a", "b", "c", "\n", "d"], ["abc", "d"]],
    ["newline alone in a chunk", ["a", "\n", "b", "\n"], ["a", "b"]],
    ["CRLF trimmed", ["a\r\nb\r\n"], ["a", "b"]],
    ["CR and LF in different chunks", ["a\r", "\nb"], ["a", "b"]],
    ["only the CR right before LF is dropped", ["a\rb\r\r\n"], ["a\rb\r"]],
    ["empty lines kept", ["a\n\n\nb\n"], ["a", "", "", "b"]],
    ["blank CRLF line kept as empty", ["\r\n"], [""]],
    ["a CR at the very end (no LF after it) is data", ["a\r\nb\r"], ["a", "b\r"]],
    ["leading empty line", ["\nx"], ["", "x"]],
    ["a lone newline is one empty line", ["\n"], [""]],
    ["empty input", [], []],
    ["empty chunks ignored", ["", "a", "", "\n", ""], ["a"]],
  ])("%s", async (_name, chunks, expected) => {
    expect(await linesAsText(...chunks)).toEqual(expected);
  });

  test("a UTF-8 character split between chunks comes out whole", async () => {
    const bytes = Buffer.from("née\nok\n");
    const lines = await collect(chunksOf(bytes.subarray(0, 2), bytes.subarray(2)));
    expect(lines.map((l) => l.toString())).toEqual(["née", "ok"]);
  });

  test("non-UTF-8 bytes pass through byte for byte", async () => {
    const lines = await collect(chunksOf([0xff, 0xfe, 0x00, 0x41], [0x80, 0x0a, 0xc3, 0x28, 0x0d, 0x0a, 0xfe]));
    expect(lines.map((l) => [...l])).toEqual([[0xff, 0xfe, 0x00, 0x41, 0x80], [0xc3, 0x28], [0xfe]]);
  });

  test("each line is its own Buffer: changing one does not touch the source or later lines", async () => {
    const chunk = Uint8Array.from([0x61, 0x62, 0x0a, 0x63, 0x64, 0x0a]);
    const lines: Buffer[] = [];
    for await (const line of readLines(chunksOf(chunk))) {
      expect(Buffer.isBuffer(line)).toBe(true);
      line.fill(0x7a);
      lines.push(line);
    }
    expect([...chunk]).toEqual([0x61, 0x62, 0x0a, 0x63, 0x64, 0x0a]);
    expect(lines.map((l) => l.toString())).toEqual(["zz", "zz"]);
  });

  test("respects byteOffset of a chunk that is a view into a larger buffer", async () => {
    const backing = Buffer.from("XXXXone\ntwoYYYY");
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 7);
    expect(await collect(chunksOf(view)).then((ls) => ls.map((l) => l.toString()))).toEqual(["one", "two"]);
  });

  test("a 10 MB line in 64 KiB chunks comes out as one line", async () => {
    const size = 10 * 1024 * 1024;
    const big = Buffer.alloc(size, 0x78);
    big[0] = 0x41;
    big[size - 1] = 0x5a;
    const input = Buffer.concat([big, Buffer.from("\nafter\n")]);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < input.length; at += 65_536) yield input.subarray(at, at + 65_536);
    }
    const lines = await collect(chunks());
    expect(lines.length).toBe(2);
    const [first, second] = lines;
    expect(first?.length).toBe(size);
    expect(first?.equals(big)).toBe(true);
    expect(second?.toString()).toBe("after");
  });
});
