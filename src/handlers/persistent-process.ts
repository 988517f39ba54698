import { existsSync } from "node:fs";
import type { Subprocess } from "bun";
import { settledWithin } from "../util/clock.ts";
import { type LineEvent, readLines } from "./persistent-lines.ts";
import { killGroup } from "./process-group.ts";
import type { TailBuffer } from "./stderr-tail.ts";

/** After the handler exits, how long its stderr may take to reach its end (as command.ts's OUTPUT_GRACE_MS). */
const STDERR_GRACE_MS = 200;
/**
 * After the handler exits, how long its stdout may take to reach its end: its last answer is read,
 * but a child it started that still holds the pipe (a shell's `helper &`) cannot keep it open.
 */
export const STDOUT_GRACE_MS = 200;

/** How a handler process ended: `exit code 3`, `killed by SIGKILL`. */
export interface Gone {
  code: number | null;
  signal: string | null;
  text: string;
}

/** What a handler process tells its slot: a line on stdout, a line too long, or that it is gone. */
export type ProcessEvent = Exclude<LineEvent, { end: true }> | { gone: Gone };

/**
 * How a handler gets a process group of its own inside taskq's session: perl's setpgrp, then an exec
 * of COMMAND. Its own group keeps a Ctrl+C in the terminal (sent to the foreground group) from
 * reaching it while taskq drains, and lets a timeout kill what it started. Bun.spawn's `detached`
 * would also make a new session, which puts the handler in another scheduler autogroup: each
 * task's wake-up then waits behind the other sessions' work (performance.md, "Persistent
 * handlers"). Bun.spawn cannot set a group alone; without perl, a session of its own it is.
 */
const PERL = "/usr/bin/perl";
const withOwnGroup = (argv: string[]): { cmd: string[]; detached: boolean } =>
  existsSync(PERL)
    ? {
        cmd: [PERL, "-e", "setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die qq(could not run $ARGV[0]: $!\\n)", ...argv],
        detached: false,
      }
    : { cmd: argv, detached: true };

/** Live handler process groups, killed if taskq exits first: a handler must never outlive taskq. */
const live = new Set<number>();
let killOnExit = false;

/**
 * One running handler: its own process group (a Ctrl+C in the terminal reaches taskq, which
 * drains, not the handler), stdin for tasks, stdout read as lines, stderr passed through and
 * kept in `tail` while a task runs. Every event goes to the one `listener` the slot sets, in
 * order; `{ gone }` comes once, last. The invariant: `gone` comes at most STDOUT_GRACE_MS after
 * the process exits, whatever holds its stdout: the end is the exit, not the pipe's close (what
 * the process left running in its group is then killed, and its stdout no longer read).
 */
export class HandlerProcess {
  listener: (event: ProcessEvent) => void = () => {};
  /** The stderr tail of the task running now (set by the slot per task). */
  tail: TailBuffer | undefined;
  readonly pid: number;
  readonly gone: Promise<Gone>;
  private readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  private ended = false;
  private stderrReader: { cancel(): Promise<void> } | undefined;

  constructor(argv: string[], env: Record<string, string | undefined>, writeStderr: (chunk: Uint8Array) => void) {
    const { cmd, detached } = withOwnGroup(argv);
    this.proc = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe", detached, env });
    this.pid = this.proc.pid;
    live.add(this.pid);
    if (!killOnExit) {
      killOnExit = true;
      process.on("exit", () => {
        for (const pid of live) killGroup(pid);
      });
    }
    const stderrEnded = this.pumpStderr(writeStderr);
    const stdout = readLines(this.proc.stdout, (event) => {
      if (!("end" in event) && !this.ended) this.listener(event);
    });
    // stdout closed while the process runs on: it can answer no more, so it is ended here.
    void stdout.ended.then(() => {
      if (this.proc.exitCode === null && this.proc.signalCode === null) this.signal("SIGKILL");
    });
    this.gone = this.proc.exited.then(async () => {
      const [stdoutDone, stderrDone] = await Promise.all([
        settledWithin(stdout.ended, STDOUT_GRACE_MS),
        settledWithin(stderrEnded, STDERR_GRACE_MS),
      ]);
      // What it started holds a pipe: it must not outlive the handler, nor keep the slot waiting.
      if (!stdoutDone || !stderrDone) killGroup(this.pid);
      if (!stdoutDone) stdout.cancel();
      if (!stderrDone) void this.stderrReader?.cancel().catch(() => {});
      live.delete(this.pid);
      const code = this.proc.exitCode;
      const signal = this.proc.signalCode === null ? null : String(this.proc.signalCode);
      const gone = { code, signal, text: signal ? `killed by ${signal}` : `exit code ${code}` };
      this.ended = true;
      this.listener({ gone });
      return gone;
    });
  }

  get isGone(): boolean {
    return this.ended;
  }

  /** Whether the process has exited (its `gone` may still be waiting for its pipes). */
  get hasExited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Writes `line` to its stdin; false when the pipe is closed (the process is gone or going). */
  send(line: string): boolean {
    try {
      this.proc.stdin.write(line);
      void Promise.resolve(this.proc.stdin.flush()).catch(() => {});
      return true;
    } catch {
      return false;
    }
  }

  /** Closes its stdin: a handler exits when its input ends (the protocol's only goodbye). */
  endInput(): void {
    try {
      void Promise.resolve(this.proc.stdin.end()).catch(() => {});
    } catch {} // already closed
  }

  /** Signals its whole group (what it started too), or the process alone if the group is gone. */
  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        this.proc.kill(sig);
      } catch {} // gone
    }
  }

  private async pumpStderr(write: (chunk: Uint8Array) => void): Promise<void> {
    const reader = this.proc.stderr.getReader();
    this.stderrReader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.tail?.push(value);
        write(value);
      }
    } catch {
      // cancelled past the grace, or the pipe failed
    }
  }
}
