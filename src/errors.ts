/**
 * Exit codes, documented in the README. Anything not listed is a bug.
 */
export const ExitCode = {
  ok: 0,
  /** The broker refused something, a task could not be confirmed, a runtime failure. */
  runtime: 1,
  /** Bad flags or arguments: nothing was sent to the broker. */
  usage: 2,
  /** The broker could not be reached or refused the login. */
  connect: 3,
  /** Stopped by a second signal. */
  interrupted: 130,
  /** The reader of our output went away (`status --watch | head -1`): as a process killed by SIGPIPE. */
  closedPipe: 141,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can fix: printed as one line, never with a stack. */
export class TaskqError extends Error {
  override readonly name = "TaskqError";
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.runtime,
  ) {
    super(message);
  }
}

export const usageError = (message: string): TaskqError => new TaskqError(message, ExitCode.usage);

/** A write to a pipe whose reader has gone: nothing to report, only to stop. */
export const isClosedPipe = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === "EPIPE";
