import { durationText } from "../util/duration.ts";
import { HandlerProcess } from "./persistent-process.ts";
import { handshakeProblem, quote } from "./persistent-protocol.ts";
import { TailBuffer } from "./stderr-tail.ts";

/** What starting one handler process needs. */
export interface StartSpec {
  argv: string[];
  env: Record<string, string | undefined>;
  /** The longest wait for the handshake line. */
  startTimeoutMs: number;
  writeStderr: (chunk: Uint8Array) => void;
}

/** A start that failed: why, in one line (the stderr tail after it, when there was one). */
export class StartFailure extends Error {
  override readonly name = "StartFailure";
}

/**
 * Starts one handler process and waits for its handshake, at most `startTimeoutMs`, or until
 * `stop` aborts (a drain: the process is killed at once, having no task to finish): resolves with
 * the process ready for its first task, or rejects with a StartFailure once the process is gone.
 * The invariant: a process is only ever given a task after its handshake.
 */
export function startHandler(spec: StartSpec, stop: AbortSignal): Promise<HandlerProcess> {
  if (stop.aborted) return Promise.reject(new StartFailure("the worker is stopping"));
  let proc: HandlerProcess;
  try {
    proc = new HandlerProcess(spec.argv, spec.env, spec.writeStderr);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "command not found" : code === "EACCES" ? "permission denied" : String(err);
    return Promise.reject(new StartFailure(`could not run ${spec.argv[0]}: ${why}`));
  }
  const tail = new TailBuffer(400);
  proc.tail = tail;
  return new Promise<HandlerProcess>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      stop.removeEventListener("abort", stopped);
      proc.listener = () => {};
      proc.signal("SIGKILL");
      const stderr = tail.text()?.trim();
      const failure = new StartFailure(stderr ? `${why}; its stderr ended: ${quote(stderr, 300)}` : why);
      void proc.gone.then(() => reject(failure));
    };
    const stopped = () => fail("the worker is stopping");
    stop.addEventListener("abort", stopped, { once: true });
    const timer = setTimeout(
      () =>
        fail(
          `handler did not answer the handshake within ${durationText(spec.startTimeoutMs)} (its first line on stdout must be 'taskq-handler 1'; --start-timeout sets the wait)`,
        ),
      spec.startTimeoutMs,
    );
    proc.listener = (event) => {
      if ("gone" in event) return fail(`handler ended (${event.gone.text}) before its handshake`);
      if ("tooLong" in event) return fail(`handler's first line is not the handshake: ${quote(event.tooLong)}`);
      const problem = handshakeProblem(event.line);
      if (problem !== undefined) return fail(problem);
      clearTimeout(timer);
      stop.removeEventListener("abort", stopped);
      proc.tail = undefined;
      proc.listener = () => {};
      resolve(proc);
    };
  });
}
