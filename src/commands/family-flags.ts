import { managementUrlError } from "../core/admin/management.ts";
import { usageError } from "../errors.ts";

/** The flags `status` and `remove` share to find a queue's family: its retry levels and the management API. */
export interface FamilyFlags {
  retryDelay: number;
  retryMaxDelay: number;
  management?: boolean;
  managementUrl?: string;
}

/**
 * Checks them before any connection; each mistake is worded once, for both commands. Without
 * --management-url, TASKQ_MANAGEMENT_URL (when set and the API is not turned off) fills it in.
 */
export function checkFamilyFlags(flags: FamilyFlags, env: NodeJS.ProcessEnv = process.env): void {
  if (flags.retryDelay <= 0) throw usageError("--retry-delay must be above 0");
  if (flags.retryMaxDelay < flags.retryDelay) throw usageError("--retry-max-delay must be at least --retry-delay");
  if (flags.management === false && flags.managementUrl !== undefined)
    throw usageError("--management-url and --no-management contradict each other");
  const urlError = flags.managementUrl === undefined ? undefined : managementUrlError(flags.managementUrl);
  if (urlError !== undefined) throw usageError(urlError);
  const fromEnv = env.TASKQ_MANAGEMENT_URL;
  if (flags.managementUrl !== undefined || flags.management === false || !fromEnv) return;
  const envError = managementUrlError(fromEnv);
  if (envError !== undefined) throw usageError(envError.replace("--management-url", "TASKQ_MANAGEMENT_URL"));
  flags.managementUrl = fromEnv;
}
