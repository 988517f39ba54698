import type { Handler, Outcome, Task } from "../task.ts";
import type { TaskSlot } from "./task-slot.ts";

/** A handler run against a deadline. */
export interface TimedRun {
  /** The handler's outcome, or a timed-out failure at the deadline (what the handler returns later is ignored). */
  outcome: Promise<Outcome>;
  /** Resolves when the handler itself has returned, however late (it may ignore its signal). */
  returned: Promise<void>;
}

/** `timed out after 1.5s`: the words of `work --timeout`, so either kind of worker reads the same in `dead list`. */
export const timedOutReason = (timeoutMs: number): string => `timed out after ${timeoutMs / 1000}s`;

/**
 * Runs `handler` with a signal that aborts at `timeoutMs` (a DOMException "TimeoutError") or when
 * the worker's `killed` does. In-process code cannot be stopped from outside: a handler that ignores
 * its signal is timed out all the same, and runs on until it returns (`returned`).
 */
export function runWithTimeout(handler: Handler, task: Task, killed: AbortSignal, timeoutMs: number): TimedRun {
  const controller = new AbortController();
  const kill = () => controller.abort(killed.reason);
  if (killed.aborted) kill();
  else killed.addEventListener("abort", kill, { once: true });
  let running: Promise<Outcome>;
  try {
    running = handler(task, controller.signal);
  } catch (err) {
    running = Promise.reject(err);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = new Promise<Outcome>((resolve, reject) => {
    timer = setTimeout(() => {
      const reason = timedOutReason(timeoutMs);
      controller.abort(new DOMException(reason, "TimeoutError"));
      resolve({ ok: false, reason, exitCode: null });
    }, timeoutMs);
    running.then(resolve, reject);
  });
  const returned = running.then(
    () => {},
    () => {},
  );
  void returned.then(() => {
    clearTimeout(timer);
    killed.removeEventListener("abort", kill); // the worker's signal lives long: no listener left per task
  });
  return { outcome, returned };
}

/**
 * The slot of a timed task: freed once the task is settled and its handler has returned, so
 * `concurrency` bounds the handlers really running, a timed-out one that runs on included.
 */
export function heldUntil(slot: TaskSlot, returned: Promise<void>): TaskSlot {
  return { freed: (startedAt) => void returned.then(() => slot.freed(startedAt)), fail: (err) => slot.fail(err) };
}
