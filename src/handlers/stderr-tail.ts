import { utf8Tail } from "../util/utf8-tail.ts";

/** The default of `--stderr-tail`: the last 2 KiB a failed command wrote to stderr. */
export const DEFAULT_STDERR_TAIL = 2048;

/**
 * Keeps the last `limit` bytes written through it, in the chunks they came in: a chunk is
 * only copied when the kept bytes pass twice the limit (then cut back to the limit), so a
 * command writing megabytes costs one copy per `limit` bytes, not one per chunk.
 */
export class TailBuffer {
  private chunks: Uint8Array[] = [];
  private bytes = 0;

  constructor(readonly limit: number) {}

  push(chunk: Uint8Array): void {
    if (this.limit <= 0 || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > 2 * this.limit) {
      const all = Buffer.concat(this.chunks);
      const kept = all.subarray(all.length - this.limit);
      this.chunks = [kept];
      this.bytes = kept.length;
    }
  }

  /**
   * The kept bytes as text: at most `limit` bytes, starting on a UTF-8 character; undefined when nothing was written.
   */
  text(): string | undefined {
    if (this.bytes === 0) return undefined;
    return utf8Tail(Buffer.concat(this.chunks), this.limit);
  }
}
