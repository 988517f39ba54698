import type { Subprocess } from "bun";
import type { Handler, Outcome } from "../core/task.ts";
import { settledWithin } from "../util/clock.ts";
import { LineLabeller, type Pump, type Write, pump } from "./output.ts";
import { scheduleGroupKill } from "./process-group.ts";
import { interpreterProblem } from "./shebang.ts";
import { DEFAULT_STDERR_TAIL, TailBuffer } from "./stderr-tail.ts";

/** The worker's environment minus the broker URLs: they may hold a password a task need not see. */
function handlerEnv(): Record<string, string | undefined> {
  const { TASKQ_URL: _t, AMQP_URL: _a, ...env } = process.env;
  return env;
}

/**
 * After the command exits, how long its output may take to reach its end. The end comes at
 * once unless something the command started in the background holds its stderr: that then
 * loses it (the pipe is closed), or taskq could never exit.
 */
const OUTPUT_GRACE_MS = 200;

export interface CommandOptions {
  /** Fail a task whose command runs longer: SIGTERM, then SIGKILL after `killAfterMs`. */
  timeoutMs?: number;
  killAfterMs?: number;
  /** Where the command's standard output goes (default: taskq's stdout). */
  output?: "stdout" | "stderr";
  /**
   * Bytes of a failed command's stderr kept for its retry and dead copies (default 2048; 0: none, stderr inherited).
   */
  stderrTail?: number;
  /** Prefix each line the command writes with `[<task id>] `. */
  labelOutput?: boolean;
}

const toStdout: Write = (chunk) => void process.stdout.write(chunk);
const toStderr: Write = (chunk) => void process.stderr.write(chunk);

/**
 * Runs `argv` once per task without a shell: the body on stdin, metadata in TASKQ_* variables,
 * output passed through as it comes. Exit 0 means done; a failure carries its stderr's tail.
 */
export function commandHandler(argv: readonly string[], options: CommandOptions = {}): Handler {
  const [file] = argv;
  if (file === undefined) throw new Error("commandHandler needs a command");
  const cmd = [...argv];
  // Built once, and only the task's own variables set per task: Bun.spawn reads it before it
  // returns, so one object serves every spawn (copying ~40 variables per task was a measurable
  // share of a short task).
  const env = handlerEnv();
  const tailBytes = options.stderrTail ?? DEFAULT_STDERR_TAIL;
  const label = options.labelOutput ?? false;
  const outWrite = options.output === "stderr" ? toStderr : toStdout;
  // stdout inherited unless labelled. stderr read through a pipe for its tail: within the rounds' spread of
  // --stderr-tail 0 (docs/performance.md, "The stderr tail").
  const stdout = label ? "pipe" : options.output === "stderr" ? 2 : "inherit";
  const stderr = label || tailBytes > 0 ? "pipe" : "inherit";
  // Bun.spawn, not node:child_process: same posix_spawn, without the Node stream layers per child.
  return (task, signal) =>
    new Promise<Outcome>((resolve) => {
      let child: Subprocess<Buffer, typeof stdout, typeof stderr>;
      env.TASKQ_QUEUE = task.queue;
      env.TASKQ_MESSAGE_ID = task.messageId ?? "";
      env.TASKQ_REDELIVERED = task.redelivered ? "1" : "0";
      env.TASKQ_ATTEMPT = String(task.attempt);
      try {
        child = Bun.spawn(cmd, {
          stdin: task.body, // written by Bun; a command that exits without reading it is no error
          stdout,
          stderr,
          // Own process group: a Ctrl+C in the terminal reaches taskq (which drains)
          // and not the running task, which is left to finish.
          detached: true,
          env,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // A missing #! interpreter also gives ENOENT: name it rather than the script.
        const why =
          code === "ENOENT"
            ? (interpreterProblem(file) ?? "command not found")
            : code === "EACCES"
              ? "permission denied"
              : (err as Error).message;
        return resolve({ ok: false, reason: `could not run ${file}: ${why}`, exitCode: null });
      }
      const tag = label ? Buffer.from(`[${task.messageId ?? "no id"}] `) : undefined;
      const tail = tailBytes > 0 ? new TailBuffer(tailBytes) : undefined;
      const pumps: Pump[] = [];
      if (child.stdout instanceof ReadableStream)
        pumps.push(pump(child.stdout, outWrite, undefined, tag && new LineLabeller(tag)));
      if (child.stderr instanceof ReadableStream)
        pumps.push(pump(child.stderr, toStderr, tail, tag && new LineLabeller(tag)));
      const pid = child.pid;
      const signalGroup = (sig: NodeJS.Signals) => {
        try {
          process.kill(-pid, sig);
        } catch {
          child.kill(sig);
        }
      };
      const kill = () => signalGroup("SIGKILL");
      let timedOut = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const timeoutTimer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              signalGroup("SIGTERM");
              killTimer = scheduleGroupKill(pid, options.killAfterMs ?? 5000);
            }, options.timeoutMs);
      if (signal.aborted) kill();
      else signal.addEventListener("abort", kill, { once: true });
      void child.exited.then(async () => {
        const code = child.exitCode;
        const sig = child.signalCode === null ? null : String(child.signalCode);
        // Timed out: the group still gets its SIGKILL when --kill-after is up, even if the command
        // itself exited on SIGTERM (what it started in the background may ignore SIGTERM).
        clearTimeout(timeoutTimer);
        if (!timedOut) clearTimeout(killTimer);
        signal.removeEventListener("abort", kill);
        if (pumps.length > 0) await endOutput(pumps);
        const failed = (reason: string, exitCode: number | null, extra: { signal?: string | null } = {}): void => {
          const stderrText = tail?.text();
          resolve({
            ok: false,
            reason,
            exitCode,
            ...extra,
            ...(stderrText !== undefined ? { stderr: stderrText } : {}),
          });
        };
        if (timedOut)
          failed(
            `timed out after ${(options.timeoutMs ?? 0) / 1000}s (${sig ? `killed by ${sig}` : `exit ${code}`})`,
            null,
            { signal: sig },
          );
        else if (code === 0) resolve({ ok: true });
        else if (sig) failed(`command killed by ${sig}`, null, { signal: sig });
        else if (code === 127 && interpreterProblem(file) !== undefined)
          failed(`could not run ${file}: ${interpreterProblem(file)}`, code);
        else failed(`command exited with code ${code}`, code);
      });
    });
}

/** Waits for the output's end (at once, as a rule); past OUTPUT_GRACE_MS it is closed. */
async function endOutput(pumps: Pump[]): Promise<void> {
  if (pumps.every((p) => p.isEnded())) return; // no timer per task on the usual path
  const ended = Promise.all(pumps.map((p) => p.ended));
  if (await settledWithin(ended, OUTPUT_GRACE_MS)) return;
  for (const p of pumps) p.stop();
  await ended;
}
