import { writeSync } from "node:fs";
import { blockThread } from "./clock.ts";

/** Where output lines go. */
export interface LineSink {
  write(line: string): void;
  flush(): void;
}

/**
 * Collects output lines and writes them at most every `intervalMs` (or when
 * 64 KiB have piled up): one write per task costs the worker a system call
 * and the reader (e.g. `taskq bench`) a read and a wake-up each. Lines carry
 * their own timestamps, so the delay changes no measurement. `flush()` on exit.
 */
export class LineWriter implements LineSink {
  private buffer = "";
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream = process.stdout,
    private readonly intervalMs = 10,
  ) {}

  write(line: string): void {
    this.buffer += `${line}\n`;
    if (this.buffer.length > 1 << 16) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const out = this.buffer;
    this.buffer = "";
    this.stream.write(out);
  }
}

/**
 * Writes each line before `write` returns (a blocking write to the file
 * descriptor): for a line that must be out before what the caller does next
 * (an ack), whatever happens to the process then. One system call per line.
 *
 * Invariant: `write` returns only with the whole line written, however slowly the reader reads.
 * Bun makes fd 1 non-blocking once `process.stdout` is touched (cli.ts does, in every command), so a
 * full pipe (a reader such as `taskq bench` behind on a busy machine) answers EAGAIN: wait a
 * millisecond and write again (test/unit/util/sync-line-writer.test.ts). As a blocking write
 * would, it waits as long as the reader does: the line must be out before the ack.
 */
export class SyncLineWriter implements LineSink {
  constructor(private readonly fd = 1) {}

  write(line: string): void {
    let bytes = Buffer.from(`${line}\n`);
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(this.fd, bytes));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        blockThread(1);
      }
    }
  }

  flush(): void {}
}
