import { type ChaosSpec, NODE_KINDS, chaosText, parseChaos } from "../bench/chaos.ts";
import { type Profile, parseProfile } from "../bench/workload.ts";
import type { BrokerTarget } from "../core/broker/connection.ts";
import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import type { QueueType } from "../core/topology/names.ts";
import { usageError } from "../errors.ts";
import { isRunnable } from "../util/runnable.ts";
import { type BrokerFlags, brokerTarget } from "./broker-flags.ts";
import { type RateFlags, type RatePlan, planRate } from "./bench-rate-plan.ts";

export interface BenchPlan {
  target: BrokerTarget;
  /** Broker flags handed on to the spawned workers. */
  workerArgs: string[];
  workers: number;
  tasks: number;
  profile: Profile;
  prefetches: Prefetch[];
  rounds: number;
  seed: number;
  json: boolean;
  /** No progress bar, no round lines. */
  quiet: boolean;
  /** Where to write the HTML report, if anywhere. */
  report: string | null;
  stallMs: number;
  queueType: QueueType;
  /** Each round's queue is `<prefix>-<8 hex>` (a shared broker's naming rules). */
  queuePrefix: string;
  /** How long workers (always) and the sender (under chaos) keep looking for a broker after losing one. */
  reconnectTimeoutMs: number;
  /** `--chaos`: faults injected during every round; null for a plain measurement. */
  chaos: { specs: ChaosSpec[]; text: string; nodeControl: string | null } | null;
  /**
   * `--rate`: the open loop (a fixed publish rate, latency from each task's intended send time); null for the closed
   * loop.
   */
  rate: RatePlan | null;
}

/** Parses `1,auto,100` into distinct prefetch values: whole numbers in [1, 65535], or `auto`. */
export function parsePrefetchList(text: string): Prefetch[] {
  const values = text.split(",").map((part): Prefetch => {
    const v = part.trim();
    if (v === "auto") return "auto";
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535)
      throw usageError(`--prefetch '${text}': each value must be a whole number from 1 to 65535, or auto`);
    return Number(v);
  });
  return [...new Set(values)];
}

export type BenchFlags = BrokerFlags &
  RateFlags & {
    workers: number;
    tasks: number;
    work: string;
    prefetch: string;
    rounds: number;
    seed: number;
    json?: boolean;
    quiet?: boolean;
    report?: string;
    stall: number;
    queueType?: QueueType;
    queuePrefix?: string;
    reconnectTimeout?: number;
    chaos?: string;
    nodeControl?: string;
    handler?: string;
    persistent?: boolean;
  };

const NODE_CONTROL_IS_FOR =
  "--node-control is for --chaos kill-node:DURATION or freeze-node:DURATION (it kills and starts, or freezes and thaws, the nodes)";

/** `--chaos` and `--node-control` checked together, before anything starts. */
function planChaos(flags: BenchFlags, target: BrokerTarget): BenchPlan["chaos"] {
  const nodeControl = flags.nodeControl?.trim() || null;
  if (flags.chaos === undefined) {
    if (nodeControl !== null) throw usageError(NODE_CONTROL_IS_FOR);
    return null;
  }
  const specs = parseChaos(flags.chaos);
  // kill-node and freeze-node need the same: a command to act on a node, other nodes, a replicated queue.
  const kind = specs.find((s) => NODE_KINDS.includes(s.kind))?.kind;
  if (kind !== undefined) {
    const actions = kind === "kill-node" ? "'CMD kill N' and 'CMD start N'" : "'CMD freeze N' and 'CMD thaw N'";
    if (nodeControl === null)
      throw usageError(
        `--chaos ${kind} needs --node-control CMD, run as ${actions} (e.g. --node-control scripts/cluster)`,
      );
    if (target.urls.length < 2)
      throw usageError(
        `--chaos ${kind} needs the URLs of several nodes of one cluster (--url once per node, or comma-separated): with one node, none would be left to fail over to`,
      );
    // Measured: the workers on the other nodes exit with "queue does not exist" the moment its node dies
    // (a classic queue lives on one node: RabbitMQ's "Clustering" guide; not shown by a test here).
    if ((flags.queueType ?? "classic") !== "quorum")
      throw usageError(
        `--chaos ${kind} needs --queue-type quorum: a classic queue lives on one node and is gone while that node is down`,
      );
    const file = nodeControl.split(/\s+/)[0] as string;
    if (!isRunnable(file))
      throw usageError(`--node-control '${nodeControl}': command not found or not executable: ${file}`);
  } else if (nodeControl !== null) throw usageError(NODE_CONTROL_IS_FOR);
  return { specs, text: chaosText(specs), nodeControl };
}

/** `--handler CMD [--persistent]` as the workers' flags: `[--persistent] -- CMD...`, or none. */
function handlerArgs(flags: BenchFlags): string[] {
  const argv = flags.handler?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (flags.handler !== undefined && argv.length === 0) throw usageError("--handler must not be empty");
  if (flags.persistent && argv.length === 0)
    throw usageError("--persistent needs --handler CMD (taskq bench --handler 'python3 handler.py' --persistent)");
  const [file] = argv;
  if (file === undefined) return [];
  if (!isRunnable(file)) throw usageError(`--handler '${flags.handler}': command not found or not executable: ${file}`);
  return [...(flags.persistent ? ["--persistent"] : []), "--", ...argv];
}

/** `given`: the flags typed on the command line (their keys), which `--rate` defaults differently. */
export function planBench(flags: BenchFlags, given: ReadonlySet<string> = new Set()): BenchPlan {
  const target = brokerTarget(flags);
  const reconnectTimeoutMs = flags.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT_MS;
  const chaos = planChaos(flags, target);
  // A worker started in a killed one's place may meet a frozen node first: a silent address takes a
  // whole attempt (5 s, all of the default --connect-timeout), so it gets the reconnect timeout.
  const connectMs = chaos?.specs.some((s) => s.kind === "freeze-node")
    ? Math.max(flags.connectTimeout, reconnectTimeoutMs)
    : flags.connectTimeout;
  // The URL goes to the workers in TASKQ_URL (round.ts), not in argv: anyone on the host can read argv (ps).
  const workerArgs = ["--connect-timeout", String(connectMs), "--reconnect-timeout", String(reconnectTimeoutMs)];
  // The bench's own heartbeat, for its workers too: they notice a silent node as it does.
  if (flags.heartbeat !== undefined) workerArgs.push("--heartbeat", `${flags.heartbeat}s`);
  for (const [flag, path] of [
    ["--ca", flags.ca],
    ["--cert", flags.cert],
    ["--key", flags.key],
  ] as const)
    if (path) workerArgs.push(flag, path);
  workerArgs.push(...handlerArgs(flags)); // last: `-- COMMAND` ends the workers' argv
  return {
    target,
    workerArgs,
    workers: flags.workers,
    tasks: flags.tasks,
    profile: parseProfile(flags.work),
    prefetches: parsePrefetchList(flags.prefetch),
    rounds: flags.rounds,
    seed: flags.seed,
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    report: flags.report ?? null,
    stallMs: flags.stall,
    queueType: flags.queueType ?? "classic",
    queuePrefix: queuePrefix(flags.queuePrefix),
    reconnectTimeoutMs,
    chaos,
    rate: planRate(flags, given, parsePrefetchList(flags.prefetch)),
  };
}

/**
 * `--queue-prefix`, checked: what a queue name may start with (the broker reserves `amq.`:
 * test/e2e/broker-rules.test.ts).
 */
export function queuePrefix(given = "taskq-bench"): string {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(given))
    throw usageError(
      `--queue-prefix '${given}': 1 to 200 letters, digits and _ . : - (the round's queue is <prefix>-<8 hex>)`,
    );
  if (given.startsWith("amq."))
    throw usageError(`--queue-prefix '${given}': names starting with 'amq.' are reserved by the broker`);
  return given;
}

/** Long enough for a node of a cluster to be killed and started again. */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 120_000;
