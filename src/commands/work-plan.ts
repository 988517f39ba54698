import type { BrokerTarget } from "../core/broker/connection.ts";
import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import type { QueueType } from "../core/topology/names.ts";
import type { RetryPolicy } from "../core/failures/retry-policy.ts";
import { usageError } from "../errors.ts";
import type { MetricsAddress } from "../metrics/server.ts";
import { isRunnable } from "../util/runnable.ts";
import { interpreterProblem } from "../handlers/shebang.ts";
import { DEFAULT_STDERR_TAIL } from "../handlers/stderr-tail.ts";
import { type BrokerFlags, brokerTarget } from "./broker-flags.ts";

export interface WorkPlan {
  target: BrokerTarget;
  queue: string;
  prefetch: Prefetch;
  concurrency: number;
  maxTasks?: number;
  idleExitMs?: number;
  dotMs: number;
  json: boolean;
  /** With `json`: each done task's line is written, unbuffered, before its ack. */
  reportBeforeAck: boolean;
  command: string[];
  queueType: QueueType;
  reconnectTimeoutMs: number;
  retry: RetryPolicy;
  timeoutMs?: number;
  killAfterMs: number;
  /** Bytes of a failed COMMAND's stderr its retry and dead copies carry; 0: none kept. */
  stderrTail: number;
  /** Each line a COMMAND writes prefixed with `[<task id>] `. */
  labelOutput: boolean;
  /** One line per task outcome on stderr. */
  verbose: boolean;
  /** `--persistent`: COMMAND runs once per slot and is fed task after task (handlers/persistent.ts). */
  persistent?: { startTimeoutMs: number; maxTasksPerProcess: number };
  metrics?: MetricsAddress;
  /** How often the worker publishes its report (status --workers); 0 = never; default DEFAULT_REPORT_MS. */
  reportEveryMs?: number;
}

export type WorkFlags = BrokerFlags & {
  queue: string;
  prefetch?: Prefetch;
  concurrency: number;
  maxTasks?: number;
  idleExit?: number;
  dotMs: number;
  json?: boolean;
  reportBeforeAck?: boolean;
  maxAttempts: number;
  maxDeferrals: number;
  /** Absent (tests of other flags): the policy's default. */
  maxRedeliveries?: number;
  retryDelay: number;
  retryMaxDelay: number;
  timeout?: number;
  killAfter: number;
  queueType: QueueType;
  reconnectTimeout: number;
  metricsPort?: number;
  metricsHost?: string;
  stderrTail?: number;
  labelOutput?: boolean;
  verbose?: boolean;
  reportEvery?: number;
  persistent?: boolean;
  startTimeout?: number;
  maxTasksPerProcess?: number;
};

/** Flags to one plan. `dashDash` is true when argv had a `--` (then a command must follow). */
export function planWork(command: string[], flags: WorkFlags, dashDash: boolean): WorkPlan {
  if (dashDash && command.length === 0)
    throw usageError("missing command after '--' (e.g. taskq work -- ./process.sh)");
  const [file] = command;
  if (file !== undefined && !isRunnable(file)) throw usageError(`command not found or not executable: ${file}`);
  const badInterpreter = file === undefined ? undefined : interpreterProblem(file);
  if (badInterpreter !== undefined) throw usageError(`${file}: ${badInterpreter}`);
  if (command.length === 0 && flags.stderrTail !== undefined)
    throw usageError("--stderr-tail needs a COMMAND (taskq work --stderr-tail 0 -- ./job.sh)");
  if (command.length === 0 && flags.labelOutput)
    throw usageError("--label-output needs a COMMAND (taskq work --label-output -- ./job.sh)");
  const plan: WorkPlan = {
    target: brokerTarget(flags),
    queue: flags.queue,
    prefetch: flags.prefetch ?? flags.concurrency,
    concurrency: flags.concurrency,
    dotMs: flags.dotMs,
    json: flags.json ?? false,
    reportBeforeAck: flags.reportBeforeAck ?? false,
    command,
    queueType: flags.queueType,
    reconnectTimeoutMs: flags.reconnectTimeout,
    retry: {
      maxAttempts: flags.maxAttempts,
      baseDelayMs: flags.retryDelay,
      maxDelayMs: flags.retryMaxDelay,
      maxDeferrals: flags.maxDeferrals,
      ...(flags.maxRedeliveries !== undefined ? { maxRedeliveries: flags.maxRedeliveries } : {}),
    },
    killAfterMs: flags.killAfter,
    stderrTail: flags.stderrTail ?? DEFAULT_STDERR_TAIL,
    labelOutput: flags.labelOutput ?? false,
    verbose: flags.verbose ?? false,
  };
  if (flags.persistent) {
    if (command.length === 0)
      throw usageError("--persistent needs a COMMAND to keep running (taskq work --persistent -- python3 handler.py)");
    if (flags.labelOutput) throw usageError("--label-output is not available with --persistent");
    if (flags.startTimeout !== undefined && flags.startTimeout <= 0)
      throw usageError("--start-timeout must be above 0");
    plan.persistent = {
      startTimeoutMs: flags.startTimeout ?? 30_000,
      maxTasksPerProcess: flags.maxTasksPerProcess ?? 0,
    };
  } else {
    if (flags.startTimeout !== undefined)
      throw usageError("--start-timeout needs --persistent (taskq work --persistent --start-timeout 1m -- ./handler)");
    if (flags.maxTasksPerProcess !== undefined)
      throw usageError(
        "--max-tasks-per-process needs --persistent (taskq work --persistent --max-tasks-per-process 1000 -- ./handler)",
      );
  }
  if (flags.timeout !== undefined) {
    if (command.length === 0)
      throw usageError("--timeout needs a COMMAND to time (taskq work --timeout 30s -- ./job.sh)");
    if (flags.timeout <= 0) throw usageError("--timeout must be above 0");
    plan.timeoutMs = flags.timeout;
  }
  if (plan.reportBeforeAck && !plan.json)
    throw usageError("--report-before-ack needs --json (it changes when the JSON lines are written)");
  if (flags.retryDelay <= 0) throw usageError("--retry-delay must be above 0");
  if (flags.retryMaxDelay < flags.retryDelay) throw usageError("--retry-max-delay must be at least --retry-delay");
  // A retry copy waits out its delay as a message expiry: taskq's bound, 2^32 - 1 ms (the broker
  // takes up to 10 years: test/e2e/broker-rules.test.ts).
  if (flags.retryMaxDelay > 2 ** 32 - 1)
    throw usageError("--retry-max-delay can be at most 4294967295ms (about 49 days: taskq's longest retry delay)");
  if (plan.prefetch !== "auto" && plan.prefetch < plan.concurrency)
    throw usageError(
      `--prefetch (${plan.prefetch}) must be at least --concurrency (${plan.concurrency}), or workers sit idle`,
    );
  if (flags.maxTasks !== undefined) plan.maxTasks = flags.maxTasks;
  if (flags.idleExit !== undefined) plan.idleExitMs = flags.idleExit;
  if (flags.metricsHost !== undefined && flags.metricsPort === undefined)
    throw usageError("--metrics-host needs --metrics-port");
  if (flags.metricsHost !== undefined && flags.metricsHost.trim() === "")
    throw usageError("--metrics-host must not be empty");
  if (flags.reportEvery !== undefined) {
    if (flags.reportEvery !== 0 && (flags.reportEvery < 100 || flags.reportEvery > 3_600_000))
      throw usageError("--report-every must be 0 (no reports) or from 100ms to 1h");
    plan.reportEveryMs = flags.reportEvery;
  }
  if (flags.metricsPort !== undefined)
    plan.metrics = { host: flags.metricsHost?.trim() ?? "127.0.0.1", port: flags.metricsPort };
  return plan;
}
