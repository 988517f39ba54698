import type { Subprocess } from "bun";
import type { Handler, Outcome } from "../core/task.ts";

/**
 * Runs `argv` once per task without a shell: the body on stdin, metadata in
 * TASKQ_* variables, output passed through. Exit 0 means done.
 */
/** The worker's environment minus the broker URLs: they may hold a password a task need not see. */
function handlerEnv(): Record<string, string | undefined> {
  const { TASKQ_URL: _t, AMQP_URL: _a, ...env } = process.env;
  return env;
}

export interface CommandOptions {
  /** Fail a task whose command runs longer: SIGTERM, then SIGKILL after `killAfterMs`. */
  timeoutMs?: number;
  killAfterMs?: number;
  /** Where the command's standard output goes (default: taskq's stdout). */
  output?: "stdout" | "stderr";
}

/**
 * Process groups told SIGTERM on a timeout whose SIGKILL (after --kill-after) is still to come.
 * If taskq exits first, they get it then: what ignored the SIGTERM must not outlive taskq.
 */
const awaitingKill = new Set<number>();
let killOnExit = false;

function scheduleGroupKill(pid: number, ms: number): ReturnType<typeof setTimeout> {
  awaitingKill.add(pid);
  if (!killOnExit) {
    killOnExit = true;
    process.on("exit", () => {
      for (const group of awaitingKill) killGroup(group);
    });
  }
  const timer = setTimeout(() => {
    awaitingKill.delete(pid);
    killGroup(pid);
  }, ms);
  timer.unref();
  return timer;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {} // the group is gone
}

export function commandHandler(argv: readonly string[], options: CommandOptions = {}): Handler {
  const [file] = argv;
  if (file === undefined) throw new Error("commandHandler needs a command");
  const cmd = [...argv];
  // Built once, and only the task's own variables set per task: Bun.spawn reads it before it
  // returns, so one object serves every spawn (copying ~40 variables per task was a measurable
  // share of a short task).
  const env = handlerEnv();
  const stdout = options.output === "stderr" ? 2 : "inherit";
  // Bun.spawn, not node:child_process: same posix_spawn, without the Node stream layers per child.
  return (task, signal) =>
    new Promise<Outcome>((resolve) => {
      let child: Subprocess;
      env.TASKQ_QUEUE = task.queue;
      env.TASKQ_MESSAGE_ID = task.messageId ?? "";
      env.TASKQ_REDELIVERED = task.redelivered ? "1" : "0";
      env.TASKQ_ATTEMPT = String(task.attempt);
      try {
        child = Bun.spawn(cmd, {
          stdin: task.body, // written by Bun; a command that exits without reading it is no error
          stdout,
          stderr: "inherit",
          // Own process group: a Ctrl+C in the terminal reaches taskq (which drains)
          // and not the running task, which is left to finish.
          detached: true,
          env,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "command not found" : code === "EACCES" ? "permission denied" : (err as Error).message;
        return resolve({ ok: false, reason: `could not run ${file}: ${why}`, exitCode: null });
      }
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
      void child.exited.then(() => {
        const code = child.exitCode;
        const sig = child.signalCode === null ? null : String(child.signalCode);
        // Timed out: the group still gets its SIGKILL when --kill-after is up, even if the command
        // itself exited on SIGTERM (what it started in the background may ignore SIGTERM).
        clearTimeout(timeoutTimer);
        if (!timedOut) clearTimeout(killTimer);
        signal.removeEventListener("abort", kill);
        if (timedOut) resolve({ ok: false, reason: `timed out after ${(options.timeoutMs ?? 0) / 1000}s (${sig ? `killed by ${sig}` : `exit ${code}`})`, exitCode: null, signal: sig });
        else if (code === 0) resolve({ ok: true });
        else if (sig) resolve({ ok: false, reason: `command killed by ${sig}`, exitCode: null, signal: sig });
        else resolve({ ok: false, reason: `command exited with code ${code}`, exitCode: code });
      });
    });
}
