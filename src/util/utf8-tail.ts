/**
 * The last `maxBytes` bytes of `bytes` as text, starting on a character: continuation bytes
 * (10xxxxxx) cut off from their lead are dropped, never shown as U+FFFD.
 *
 * @example
 * utf8Tail(Buffer.from("héllo"), 4); // "llo" (the é's second byte alone is dropped)
 */
export function utf8Tail(bytes: Uint8Array | string, maxBytes: number): string {
  const buf =
    typeof bytes === "string"
      ? Buffer.from(bytes, "utf8")
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (maxBytes <= 0) return "";
  let start = Math.max(0, buf.length - maxBytes);
  // At most three continuation bytes follow a lead byte.
  for (let i = 0; i < 3 && start < buf.length && ((buf[start] as number) & 0xc0) === 0x80; i++) start++;
  return buf.subarray(start).toString("utf8");
}
