import type { BrokerTarget } from "../core/broker/connection.ts";
import { checkFamilyFlags } from "./family-flags.ts";
import type { RetryDelays } from "../core/failures/retry-policy.ts";
import { usageError } from "../errors.ts";
import { type BrokerFlags, brokerTarget } from "./broker-flags.ts";

export const DEFAULT_WATCH_MS = 2000;
/** A faster watch would mostly measure itself: each sample is a dozen passive declares. */
export const MIN_WATCH_MS = 100;

export interface StatusPlan {
  target: BrokerTarget;
  queue: string;
  /** The workers' retry delays: the retry queues looked for when the management API does not answer. */
  retry: RetryDelays;
  json: boolean;
  /** Sample every this many ms until Ctrl+C; absent: one sample. */
  watchMs?: number;
  /** false: AMQP only (--no-management); else the API at `url`, or at the broker's host by default. */
  management: false | { url?: string };
  /** Also show the workers' own reports. */
  workers: boolean;
}

export type StatusFlags = BrokerFlags & {
  queue: string;
  json?: boolean;
  watch?: number | true;
  retryDelay: number;
  retryMaxDelay: number;
  management?: boolean;
  managementUrl?: string;
  workers?: boolean;
};

/** Flags to one plan, checked before any connection. */
export function planStatus(flags: StatusFlags): StatusPlan {
  checkFamilyFlags(flags);
  const plan: StatusPlan = {
    target: brokerTarget(flags),
    queue: flags.queue,
    retry: { baseDelayMs: flags.retryDelay, maxDelayMs: flags.retryMaxDelay },
    json: flags.json ?? false,
    management:
      flags.management === false ? false : flags.managementUrl === undefined ? {} : { url: flags.managementUrl },
    workers: flags.workers ?? false,
  };
  if (flags.watch !== undefined) {
    const ms = flags.watch === true ? DEFAULT_WATCH_MS : flags.watch;
    if (ms < MIN_WATCH_MS) throw usageError(`--watch interval must be at least ${MIN_WATCH_MS}ms, got ${ms}ms`);
    plan.watchMs = ms;
  }
  return plan;
}
