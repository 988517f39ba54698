import { utf8Tail } from "../../util/utf8-tail.ts";

const count = (n: number): string => n.toLocaleString("en-US");
const bytesOf = (text: string): number => Buffer.byteLength(text, "utf8");

/**
 * `text` whole when it takes at most `maxBytes` (UTF-8); else its first bytes, cut on a character,
 * and how much was cut, all within `maxBytes`: for a reason, whose start says what went wrong.
 *
 * @example
 * cutHead("x".repeat(70_000), 60); // "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… [cut: 69,968 bytes more]" (32 x)
 */
export function cutHead(text: string, maxBytes: number): string {
  const total = bytesOf(text);
  if (total <= maxBytes) return text;
  const note = (cut: number) => `… [cut: ${count(cut)} bytes more]`;
  // Sized for the largest count (the whole text): the count shown is smaller, never longer.
  const room = maxBytes - bytesOf(note(total));
  if (room <= 0) return utf8Head(text, maxBytes); // no room to say it
  const head = utf8Head(text, room);
  return head + note(total - bytesOf(head));
}

/**
 * `text` whole when it takes at most `maxBytes`; else how much was cut, then its last bytes, cut
 * on a character, all within `maxBytes`: for a stderr tail, whose end says what went wrong.
 *
 * @example
 * cutTail("x".repeat(70_000), 60); // "[cut: 69,970 bytes before] …xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" (30 x)
 */
export function cutTail(text: string, maxBytes: number): string {
  const total = bytesOf(text);
  if (total <= maxBytes) return text;
  const note = (cut: number) => `[cut: ${count(cut)} bytes before] …`;
  const room = maxBytes - bytesOf(note(total));
  if (room <= 0) return utf8Tail(text, maxBytes);
  const tail = utf8Tail(text, room);
  return note(total - bytesOf(tail)) + tail;
}

/** The first `maxBytes` bytes of `text`, less a character the cut would split. */
function utf8Head(text: string, maxBytes: number): string {
  const buf = Buffer.from(text, "utf8");
  let end = Math.min(maxBytes, buf.length);
  // The first byte left out is a continuation byte (10xxxxxx): its character's lead goes too.
  while (end > 0 && end < buf.length && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString("utf8");
}
