import type { BrokerTarget } from "../core/broker/connection.ts";
import type { DeadSelector } from "../core/admin/dead-select.ts";
import { usageError } from "../errors.ts";
import { type BrokerFlags, brokerTarget } from "./broker-flags.ts";
import { checkCanAsk } from "./confirm.ts";

export const DEFAULT_LIST_LIMIT = 100;

export interface DeadPlan {
  target: BrokerTarget;
  queue: string;
  limit?: number;
  selector: DeadSelector;
  json: boolean;
  /** requeue, purge: say what would be done, change nothing. */
  dryRun: boolean;
  /** purge: go ahead without asking. */
  yes: boolean;
}

export type DeadFlags = BrokerFlags & {
  queue: string;
  limit?: number;
  id?: string;
  reason?: string;
  exitCode?: number;
  olderThan?: number;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
};

/**
 * Flags to one plan, checked before any connection. `asks`: the command deletes tasks and must
 * ask first unless --yes (or --dry-run); `tty`: whether stdin is a terminal to ask on.
 */
export function planDead(flags: DeadFlags, asks = false, tty = Boolean(process.stdin.isTTY)): DeadPlan {
  if (flags.id !== undefined && flags.id.length === 0) throw usageError("--id cannot be empty");
  if (flags.reason !== undefined && flags.reason.length === 0) throw usageError("--reason cannot be empty");
  const dryRun = flags.dryRun ?? false;
  const yes = flags.yes ?? false;
  if (asks && !dryRun) checkCanAsk("taskq dead purge", yes, tty);
  const selector: DeadSelector = {};
  if (flags.id !== undefined) selector.id = flags.id;
  if (flags.reason !== undefined) selector.reason = flags.reason;
  if (flags.exitCode !== undefined) selector.exitCode = flags.exitCode;
  if (flags.olderThan !== undefined) selector.olderThanMs = flags.olderThan;
  const plan: DeadPlan = {
    target: brokerTarget(flags),
    queue: flags.queue,
    selector,
    json: flags.json ?? false,
    dryRun,
    yes,
  };
  if (flags.limit !== undefined) plan.limit = flags.limit;
  return plan;
}
