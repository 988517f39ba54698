import { createReadStream } from "node:fs";
import { ExitCode, TaskqError } from "../errors.ts";

/**
 * Yields each line of a byte stream as a Buffer, without decoding it: the
 * '\n' (and a '\r' right before it) is dropped, nothing else is touched.
 */
export async function* readLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  for await (const chunk of source) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let nl = buf.indexOf(0x0a);
    while (nl !== -1) {
      parts.push(buf.subarray(0, nl));
      yield trimCr(parts.length === 1 ? Buffer.from(parts[0] as Buffer) : Buffer.concat(parts));
      parts = [];
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    if (buf.length > 0) parts.push(Buffer.from(buf));
  }
  // A last line without '\n' is kept whole: a '\r' there ends no line.
  if (parts.length > 0) yield Buffer.concat(parts);
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}

/** Lines of a file, or of standard input for `-`; a read error is a one-line TaskqError. */
export async function* fileLines(path: string): AsyncGenerator<Buffer> {
  try {
    yield* readLines(path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 16 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!e?.code) throw err;
    const why =
      e.code === "EISDIR"
        ? "it is a directory"
        : e.code === "EACCES"
          ? "permission denied"
          : e.code === "ENOENT"
            ? "no such file"
            : e.code;
    throw new TaskqError(`cannot read --file '${path}': ${why}`, ExitCode.usage);
  }
}
