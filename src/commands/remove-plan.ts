import type { BrokerTarget } from "../core/broker/connection.ts";
import type { RetryDelays } from "../core/failures/retry-policy.ts";
import { type BrokerFlags, brokerTarget } from "./broker-flags.ts";
import { checkCanAsk } from "./confirm.ts";
import { checkFamilyFlags } from "./family-flags.ts";

export interface RemovePlan {
  target: BrokerTarget;
  queue: string;
  retry: RetryDelays;
  /** undefined: the default API next to the broker; false: --no-management. */
  management: string | false | undefined;
  force: boolean;
  dryRun: boolean;
  yes: boolean;
}

export type RemoveFlags = BrokerFlags & {
  queue: string;
  retryDelay: number;
  retryMaxDelay: number;
  management: boolean;
  managementUrl?: string;
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
};

/** Flags to one plan, checked before any connection; `tty`: whether stdin is a terminal to ask on. */
export function planRemove(flags: RemoveFlags, tty = Boolean(process.stdin.isTTY)): RemovePlan {
  checkFamilyFlags(flags);
  const dryRun = flags.dryRun ?? false;
  const yes = flags.yes ?? false;
  if (!dryRun) checkCanAsk("taskq remove", yes, tty);
  return {
    target: brokerTarget(flags),
    queue: flags.queue,
    retry: { baseDelayMs: flags.retryDelay, maxDelayMs: flags.retryMaxDelay },
    management: flags.management ? flags.managementUrl : false,
    force: flags.force ?? false,
    dryRun,
    yes,
  };
}
