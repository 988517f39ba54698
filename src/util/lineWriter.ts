/**
 * Collects output lines and writes them in one call per event-loop turn:
 * one write per task would cost a system call each on a hot worker.
 */
export class LineWriter {
  private buffer = "";
  private scheduled = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  write(line: string): void {
    this.buffer += `${line}\n`;
    if (this.buffer.length > 1 << 16) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const out = this.buffer;
    this.buffer = "";
    this.stream.write(out);
  }
}
