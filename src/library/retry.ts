import { DEFAULT_RETRY, type RetryPolicy } from "../core/failures/retry-policy.ts";
import { usageError } from "../errors.ts";

/**
 * A library caller's retry options over the defaults: any field given wins, the rest are
 * DEFAULT_RETRY's (`{ maxAttempts: 3 }` keeps the default delays). Checked as `taskq work` checks its flags.
 */
export function retryPolicy(given: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy: Required<RetryPolicy> = { ...DEFAULT_RETRY };
  for (const [key, value] of Object.entries(given) as Array<[keyof RetryPolicy, number | undefined]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_RETRY))
      throw usageError(`retry.${key} is not a retry option (${Object.keys(DEFAULT_RETRY).join(", ")})`);
    policy[key] = value;
  }
  const whole = (key: keyof RetryPolicy, min: number) => {
    const value = policy[key];
    if (!Number.isInteger(value) || value < min)
      throw usageError(`retry.${key} must be a whole number of at least ${min}, got ${JSON.stringify(value)}`);
  };
  whole("maxAttempts", 1);
  whole("baseDelayMs", 1);
  whole("maxDelayMs", 1);
  whole("maxDeferrals", 0);
  whole("maxRedeliveries", 1);
  if (policy.maxDelayMs < policy.baseDelayMs)
    throw usageError(
      `retry.maxDelayMs (${policy.maxDelayMs}) must be at least retry.baseDelayMs (${policy.baseDelayMs})`,
    );
  return policy;
}
