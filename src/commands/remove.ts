import { Command } from "@commander-js/extra-typings";
import type { BrokerTarget } from "../core/broker/connection.ts";
import { DEFAULT_RETRY, type RetryDelays } from "../core/failures/retry-policy.ts";
import { managementUrlError } from "../core/admin/management.ts";
import { usageError } from "../errors.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { checkCanAsk } from "./confirm.ts";
import { duration } from "./parsers.ts";

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

type RemoveFlags = BrokerFlags & { queue: string; retryDelay: number; retryMaxDelay: number; management: boolean; managementUrl?: string; force?: boolean; dryRun?: boolean; yes?: boolean };

/** Flags to one plan, checked before any connection; `tty`: whether stdin is a terminal to ask on. */
export function planRemove(flags: RemoveFlags, tty = Boolean(process.stdin.isTTY)): RemovePlan {
  if (flags.queue.length === 0 || Buffer.byteLength(flags.queue) > 255) throw usageError("--queue must be 1 to 255 bytes long");
  if (flags.retryDelay <= 0) throw usageError("--retry-delay must be above 0");
  if (flags.retryMaxDelay < flags.retryDelay) throw usageError("--retry-max-delay must be at least --retry-delay");
  if (flags.managementUrl !== undefined && !flags.management) throw usageError("--management-url and --no-management go against each other");
  const urlError = flags.managementUrl === undefined ? undefined : managementUrlError(flags.managementUrl);
  if (urlError !== undefined) throw usageError(urlError);
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

export function removeCommand() {
  return withBrokerFlags(new Command("remove"))
    .description("delete a work queue's whole family: the queue, its retry and delay queues, its dead queue (refused while any holds tasks, unless --force)")
    .option("-q, --queue <name>", "work queue whose family to delete", "task_queue")
    .option("--force", "delete them even with tasks in them or consumers on them (the tasks are lost)")
    .option("--dry-run", "print what would be deleted, and delete nothing")
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .option("--retry-delay <duration>", "the workers' --retry-delay: names the retry levels to look for without the management API", duration, DEFAULT_RETRY.baseDelayMs)
    .option("--retry-max-delay <duration>", "the workers' --retry-max-delay (same use)", duration, DEFAULT_RETRY.maxDelayMs)
    .option("--management-url <url>", "the management API that lists every queue of the family (default: http://<broker host>:15672, the broker URL's login)")
    .option("--no-management", "do not ask the management API: look only for the retry levels the delays give")
    .action(async (flags) => (await import("./remove-run.ts")).runRemove(planRemove(flags)));
}
