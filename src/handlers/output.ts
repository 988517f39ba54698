import type { TailBuffer } from "./stderr-tail.ts";

/** A partial line longer than this is written without waiting for its end (a label is not worth unbounded memory). */
const MAX_PENDING_LINE = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Prefixes each line with a label. Only whole lines go out, so that the lines of tasks run at
 * once never mix within a line; `end()` gives the partial last line, ended with a newline.
 */
export class LineLabeller {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly label: Uint8Array) {}

  apply(chunk: Uint8Array): Uint8Array | undefined {
    const parts: Uint8Array[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      parts.push(this.label, ...this.pending, chunk.subarray(from, nl + 1));
      this.pending = [];
      this.pendingBytes = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      this.pending.push(chunk.subarray(from));
      this.pendingBytes += chunk.length - from;
      if (this.pendingBytes > MAX_PENDING_LINE) parts.push(...this.flush());
    }
    return parts.length === 0 ? undefined : Buffer.concat(parts);
  }

  /** The partial last line, labelled and ended; undefined when the output ended with a newline. */
  end(): Uint8Array | undefined {
    return this.pendingBytes === 0 ? undefined : Buffer.concat(this.flush());
  }

  private flush(): Uint8Array[] {
    const parts = [this.label, ...this.pending, Uint8Array.of(NEWLINE)];
    this.pending = [];
    this.pendingBytes = 0;
    return parts;
  }
}

/** Where a command's output goes: written as it comes (a long task's progress shows live). */
export type Write = (chunk: Uint8Array) => void;

/** A stream being copied to `write` (through the label, kept in the tail); `stop()` ends it early. */
export interface Pump {
  readonly ended: Promise<void>;
  isEnded(): boolean;
  stop(): void;
}

/**
 * Copies `stream` to `write` chunk by chunk until it ends: each chunk also into `tail`, and labelled by `label` on its
 * way out.
 */
export function pump(stream: ReadableStream<Uint8Array>, write: Write, tail?: TailBuffer, label?: LineLabeller): Pump {
  const reader = stream.getReader();
  let isEnded = false;
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        tail?.push(value);
        const out = label ? label.apply(value) : value;
        if (out !== undefined && out.length > 0) write(out);
      }
    } catch {
      // stopped (cancelled), or the pipe failed: what came is written
    }
    const last = label?.end();
    if (last !== undefined) write(last);
    isEnded = true;
  })();
  return { ended, isEnded: () => isEnded, stop: () => void reader.cancel().catch(() => {}) };
}
