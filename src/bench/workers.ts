import type { Subprocess } from "bun";
import { ExitCode, TaskqError } from "../errors.ts";

/** One line of `taskq work --json`. */
export interface TaskReport {
  id: string | null;
  /** 1 for the first delivery; more for a redelivery (a worker died holding it, a node went down). */
  attempt: number;
  outcome: string;
  start: number;
  end: number;
  /** The end on the machine-wide monotonic clock (util/mono.ts); absent from an older taskq. */
  mono?: number;
}

/** How to run this same taskq again: the compiled binary, or bun + the entry script. */
export function selfCommand(): string[] {
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
  return compiled ? [process.execPath] : [process.execPath, Bun.main];
}

/** The `taskq work` flags of a bench worker on `queue`: simulated work of 1 ms a dot, then the bench's own flags. */
export function benchWorkerArgs(
  queue: string,
  config: { queueType: string; prefetch: number | "auto"; workerArgs: readonly string[] },
): string[] {
  return [
    "--queue",
    queue,
    "--queue-type",
    config.queueType,
    "--prefetch",
    String(config.prefetch),
    "--dot-ms",
    "1",
    ...config.workerArgs,
  ];
}

/**
 * The last line of a process's stderr that says something: not a stack frame ("    at ..."), not a blank line, not the
 * "Bun v1.x (Linux x64)" line Bun ends an uncaught crash with. The whole last line when none is left.
 */
export function errorLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  return (
    lines.findLast((line) => line.trim() !== "" && !/^\s+at /.test(line) && !/^Bun v\d/.test(line)) ?? lines.pop() ?? ""
  );
}

/** A `taskq work --json` child whose task reports are parsed as they come. */
export class WorkerProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  private stderr = "";
  private readonly finished: Promise<void>;
  /** Killed by the bench (SIGKILL), not exited by itself. */
  killed = false;

  /**
   * `onLost` is told (at once, as the line is read) each time the worker says it lost its broker
   * connection: the bench's failover clock starts there.
   */
  constructor(
    args: string[],
    onReport: (report: TaskReport) => void,
    env: Record<string, string> = {},
    onLost?: () => void,
  ) {
    this.proc = Bun.spawn([...selfCommand(), "work", "--json", ...args], {
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.finished = Promise.all([this.readLines(onReport), this.readStderr(onLost)]).then(() => {});
  }

  private async readLines(onReport: (report: TaskReport) => void): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this.proc.stdout) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) onReport(JSON.parse(line) as TaskReport);
    }
  }

  private async readStderr(onLost?: () => void): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this.proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.stderr = (this.stderr + text).slice(-4000);
      if (!onLost) continue;
      const lines = (rest + text).split("\n");
      rest = lines.pop() ?? "";
      // work's line for a lost connection: " [!] <why>[; N task(s) in flight ...]; reconnecting"
      for (const line of lines) if (line.startsWith(" [!] ") && line.endsWith("; reconnecting")) onLost();
    }
  }

  /** Its exit code (null when a signal ended it), once it exited. */
  get exitedWith(): Promise<number | null> {
    return this.proc.exited.then(() => this.proc.exitCode);
  }

  /** Why it exited, when it exits early: its last line on stderr that says something (errorLine). */
  get lastLine(): string {
    return errorLine(this.stderr);
  }

  /** Exited, on its own or by a signal (then Bun leaves `exitCode` null and sets `signalCode`). */
  private get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /**
   * Ended by a Ctrl+C (or stop) that reached it too: killed by it before its own handler was
   * in place, or exited 130 on it. Its exit can be seen before the bench's own handler has run.
   */
  get interrupted(): boolean {
    return (
      this.proc.signalCode === "SIGINT" ||
      this.proc.signalCode === "SIGTERM" ||
      this.proc.exitCode === ExitCode.interrupted
    );
  }

  /**
   * Resolves once the worker consumes; fails with its own error line if it exits first, and as
   * "interrupted" when `signal` aborts (Ctrl+C reaches the workers too: they exit before consuming).
   */
  async ready(signal: AbortSignal, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes("Waiting for tasks")) {
      if (signal.aborted || this.interrupted) throw new TaskqError("bench interrupted", ExitCode.interrupted);
      if (this.exited) throw new TaskqError(`a bench worker exited early: ${this.lastLine}`);
      if (Date.now() > deadline) throw new TaskqError(`a bench worker was not ready after ${timeoutMs / 1000}s`);
      await Bun.sleep(10);
    }
  }

  /** Drains (SIGTERM), and kills it if it takes longer than `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.exited) this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.proc.exited;
    await this.finished;
    clearTimeout(timer);
  }

  kill(): void {
    this.killed = true;
    this.proc.kill("SIGKILL");
  }
}
