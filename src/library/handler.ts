import { HANDLER_EXIT } from "../core/failures/retry-policy.ts";
import { type Handler, NotJsonError, type Outcome, type Task } from "../core/task.ts";
import { usageError } from "../errors.ts";

/** setTimeout's longest wait (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The worker's handler from a library one: nothing returned is done; a thrown error fails the task
 * (retried), except a body that is not JSON (`task.json()`'s NotJsonError): retrying cannot mend
 * that, so it goes dead at once, as `HANDLER_EXIT.noRetry` asks.
 */
export function outcomeOf(handler: (task: Task, signal: AbortSignal) => Promise<void | Outcome>): Handler {
  return async (task, signal) => {
    try {
      return asOutcome(await handler(task, signal));
    } catch (err) {
      if (err instanceof NotJsonError) return { ok: false, reason: err.message, exitCode: HANDLER_EXIT.noRetry };
      return { ok: false, reason: (err as Error)?.message ?? String(err) };
    }
  };
}

/**
 * What a handler returned, as an Outcome: a failed one (`ok: false`) with its fields of the right
 * types only (they become a copy's headers: a NaN exit code or an object as stderr could not be
 * encoded), given a reason if it has none; anything else (nothing, or a value a JavaScript handler
 * happens to return: a row, a string) is done, not a failure with no reason.
 */
function asOutcome(value: unknown): Outcome {
  const ok = typeof value === "object" && value !== null ? (value as { ok?: unknown }).ok : undefined;
  if (ok !== false) return { ok: true };
  const { reason, exitCode, signal, stderr } = value as Record<string, unknown>;
  return {
    ok: false,
    reason: typeof reason === "string" ? reason : "handler returned { ok: false } without a reason",
    ...(exitCode === null || Number.isFinite(exitCode) ? { exitCode: exitCode as number | null } : {}),
    ...(signal === null || typeof signal === "string" ? { signal } : {}),
    ...(typeof stderr === "string" ? { stderr } : {}),
  };
}

/** `timeoutMs` as given, checked: whole milliseconds above 0 that a timer can wait. */
export function checkedTimeout(timeoutMs: number | undefined): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)
    throw usageError(`timeoutMs must be whole milliseconds from 1 to ${MAX_TIMEOUT_MS} (24.8 days), got ${timeoutMs}`);
  return timeoutMs;
}
