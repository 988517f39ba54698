/** What `untilAborted` resolves with when the signal won. */
export const ABORTED: unique symbol = Symbol("aborted");

/**
 * `work`'s outcome, or ABORTED as soon as `signal` aborts (`work` goes on unseen; its rejection is
 * handled). The abort listener goes with the answer: a long-lived signal raced against many short
 * waits keeps no listener per wait.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.resolve(ABORTED);
  }
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
