import { MAX_ANSWER_BYTES } from "./persistent-protocol.ts";

const NEWLINE = 0x0a;

/** What a handler's stdout gave: a whole line, a line too long to be the protocol, or its end. */
export type LineEvent = { line: string } | { tooLong: string } | { end: true };

/** A stream being read as lines: `ended` settles after `{ end }`; `cancel()` stops the reading (then `{ end }`). */
export interface LineReader {
  ended: Promise<void>;
  cancel(): void;
}

/**
 * Splits a handler's stdout into lines as they come and hands each to `onEvent`, in order, then
 * `{ end }` once. A line longer than MAX_ANSWER_BYTES is given as `tooLong` (its start), at once
 * when its newline is not yet read, so a handler writing without newlines never grows taskq's memory.
 */
export function readLines(stream: ReadableStream<Uint8Array>, onEvent: (event: LineEvent) => void): LineReader {
  const reader = stream.getReader();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const take = (last: Uint8Array): string => {
    const text = Buffer.concat([...pending, last]).toString("utf8");
    pending = [];
    pendingBytes = 0;
    return text;
  };
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let from = 0;
        for (let nl = value.indexOf(NEWLINE); nl !== -1; nl = value.indexOf(NEWLINE, from)) {
          // The same limit whether the line came in one chunk or several.
          const bytes = pendingBytes + nl - from;
          const text = take(value.subarray(from, nl));
          onEvent(bytes > MAX_ANSWER_BYTES ? { tooLong: text.slice(0, 300) } : { line: text });
          from = nl + 1;
        }
        if (from < value.length) {
          pending.push(value.subarray(from));
          pendingBytes += value.length - from;
          if (pendingBytes > MAX_ANSWER_BYTES) onEvent({ tooLong: take(new Uint8Array()).slice(0, 300) });
        }
      }
    } catch {
      // the pipe failed: the end, as for a closed one
    }
    if (pendingBytes > 0) onEvent({ line: take(new Uint8Array()) });
    onEvent({ end: true });
  })();
  return { ended, cancel: () => void reader.cancel().catch(() => {}) };
}
