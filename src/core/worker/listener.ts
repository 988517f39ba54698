import type { WorkerEvent } from "./worker-state.ts";

/**
 * The worker's `emit`: tells `onEvent`. A listener that throws must not leave the worker's counts
 * half done (a slot taken and never freed, a stop that never finishes): its error goes to `fail`
 * once the current step is over (the worker's `done` rejects with it; what is unacked goes back to
 * the queue).
 */
export function guardedListener(
  onEvent: (event: WorkerEvent) => void,
  fail: (err: Error) => void,
): (event: WorkerEvent) => void {
  return (event) => {
    try {
      onEvent(event);
    } catch (err) {
      queueMicrotask(() =>
        fail(new Error(`an onEvent listener threw on '${event.type}': ${(err as Error)?.message ?? err}`)),
      );
    }
  };
}
