import type { Outcome, Task } from "../task.ts";
import { DEFAULT_MAX_REDELIVERIES } from "./redeliveries.ts";

/**
 * Exit codes a handler can use to steer what happens to a failed task
 * (documented in the README). Every other non-zero exit is a failure that is
 * retried until `maxAttempts`, then dead-lettered.
 */
export const HANDLER_EXIT = {
  /** EX_DATAERR: the task itself is bad; retrying cannot help. Dead-letter at once. */
  noRetry: 65,
  /**
   * EX_TEMPFAIL: not now (a dependency is down); try again later without spending an attempt, at most `maxDeferrals`
   * times.
   */
  notNow: 75,
} as const;

export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means never retry. */
  maxAttempts: number;
  /** Delay before the first retry; doubles each attempt. */
  baseDelayMs: number;
  /** No retry waits longer than this. */
  maxDelayMs: number;
  /**
   * "Not now" answers (exit 75) taken before the task is dead-lettered; each waits like a retry (default 20: about an
   * hour with the default delays).
   */
  maxDeferrals?: number;
  /**
   * Deaths in a row of a worker holding the task (killed, out of memory, cut off) before it goes to `.dead` instead of
   * running again (default 5): redeliveries.ts.
   */
  maxRedeliveries?: number;
}

/** The part of a policy that decides the delays, and so the retry queues' names. */
export type RetryDelays = Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">;

/** The defaults of `taskq work`'s flags, and what a policy without `maxDeferrals` allows. */
export const DEFAULT_RETRY: Required<RetryPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  maxDeferrals: 20,
  maxRedeliveries: DEFAULT_MAX_REDELIVERIES,
};

/** Share of a delay taken off at random, so failed tasks do not all come back at once. */
const JITTER = 0.2;

export type Decision =
  | { action: "dead"; why: string }
  | { action: "retry"; levelMs: number; delayMs: number; nextAttempt: number; deferrals: number };

/** The delay level of a retry: base · 2^(attempt−1), capped. Levels name the retry queues. */
export function retryLevel(policy: RetryDelays, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Every level a policy can use, shortest first: base, 2·base, 4·base … up to
 * the cap. Only `baseDelayMs` and `maxDelayMs` matter; the retry queues are
 * `<queue>.retry.<level>`, so these are the only ones a worker with this policy declares.
 *
 * @example
 * retryLevels({ baseDelayMs: 1000, maxDelayMs: 5000 }); // [1000, 2000, 4000, 5000]
 */
export function retryLevels(policy: RetryDelays): number[] {
  if (!(policy.baseDelayMs > 0)) throw new RangeError("baseDelayMs must be above 0");
  const levels: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const level = retryLevel(policy, attempt);
    levels.push(level);
    if (level >= policy.maxDelayMs) return levels;
  }
}

/** A delay within its level, jittered down by up to 20%: within one retry queue, messages expire nearly in order. */
export function calculateDelay(levelMs: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(levelMs * (1 - JITTER * random())));
}

/** What to do with a task whose handler failed on its `attempt` (after `deferrals` "not now" answers). */
export function decide(
  outcome: Extract<Outcome, { ok: false }>,
  task: Pick<Task, "attempt" | "deferrals">,
  policy: RetryPolicy,
  random: () => number = Math.random,
): Decision {
  const { attempt, deferrals } = task;
  if (outcome.exitCode === HANDLER_EXIT.noRetry)
    return { action: "dead", why: `exit ${HANDLER_EXIT.noRetry} asks not to retry` };
  if (outcome.exitCode === HANDLER_EXIT.notNow) {
    const max = policy.maxDeferrals ?? DEFAULT_RETRY.maxDeferrals;
    if (deferrals >= max)
      return {
        action: "dead",
        why: `exit ${HANDLER_EXIT.notNow} (not now) ${deferrals + 1} time(s), more than --max-deferrals ${max}`,
      };
    const levelMs = retryLevel(policy, deferrals + 1);
    return {
      action: "retry",
      levelMs,
      delayMs: calculateDelay(levelMs, random),
      nextAttempt: attempt,
      deferrals: deferrals + 1,
    };
  }
  if (attempt >= policy.maxAttempts)
    return { action: "dead", why: `failed ${attempt} attempt(s) of ${policy.maxAttempts}` };
  const levelMs = retryLevel(policy, attempt);
  return { action: "retry", levelMs, delayMs: calculateDelay(levelMs, random), nextAttempt: attempt + 1, deferrals };
}
