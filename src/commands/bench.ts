import { closeSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { Command } from "@commander-js/extra-typings";
import { type ChaosSpec, chaosText, parseChaos } from "../bench/chaos.ts";
import { htmlReport } from "../bench/html.ts";
import { NodeControl } from "../bench/node-control.ts";
import { accountedFor, jsonReport, medianRun, tableReport } from "../bench/report.ts";
import { type RunResult, runRound } from "../bench/round.ts";
import { type Profile, parseProfile, seededRandom, taskDurations } from "../bench/workload.ts";
import type { BrokerTarget } from "../core/connection.ts";
import type { Prefetch } from "../core/prefetch.ts";
import type { QueueType } from "../core/queue.ts";
import { connect } from "../core/reconnector.ts";
import { ExitCode, TaskqError, usageError } from "../errors.ts";
import { progressBar } from "../util/progress.ts";
import { isRunnable } from "../util/runnable.ts";
import { VERSION } from "../version.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { duration, intInRange, queueType } from "./parsers.ts";

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
  /** How long workers (always) and the sender (under chaos) keep looking for a broker after losing one. */
  reconnectTimeoutMs: number;
  /** `--chaos`: faults injected during every round; null for a plain measurement. */
  chaos: { specs: ChaosSpec[]; text: string; nodeControl: string | null } | null;
}

/** Parses `1,auto,100` into distinct prefetch values: whole numbers in [1, 65535], or `auto`. */
export function parsePrefetchList(text: string): Prefetch[] {
  const values = text.split(",").map((part): Prefetch => {
    const v = part.trim();
    if (v === "auto") return "auto";
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw usageError(`--prefetch '${text}': each value must be a whole number from 1 to 65535, or auto`);
    return Number(v);
  });
  return [...new Set(values)];
}

function autoNeedsClassic(prefetches: Prefetch[], type: QueueType): Prefetch[] {
  if (type === "quorum" && prefetches.includes("auto")) throw usageError("--prefetch auto needs a classic queue (quorum queues cannot change a live consumer's prefetch)");
  return prefetches;
}

type BenchFlags = BrokerFlags & {
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
  reconnectTimeout?: number;
  chaos?: string;
  nodeControl?: string;
};

/** `--chaos` and `--node-control` checked together, before anything starts. */
function planChaos(flags: BenchFlags, target: BrokerTarget): BenchPlan["chaos"] {
  const nodeControl = flags.nodeControl?.trim() || null;
  if (flags.chaos === undefined) {
    if (nodeControl !== null) throw usageError("--node-control is for --chaos kill-node:DURATION (it kills and starts the nodes)");
    return null;
  }
  const specs = parseChaos(flags.chaos);
  if (specs.some((s) => s.kind === "kill-node")) {
    if (nodeControl === null) throw usageError("--chaos kill-node needs --node-control CMD, run as 'CMD kill N' and 'CMD start N' (e.g. --node-control scripts/cluster)");
    if (target.urls.length < 2) throw usageError("--chaos kill-node needs the URLs of several nodes of one cluster (--url once per node, or comma-separated): with one node, none would be left to fail over to");
    // Measured: the workers on the other nodes exit with "queue does not exist" the moment its node dies.
    if ((flags.queueType ?? "classic") !== "quorum") throw usageError("--chaos kill-node needs --queue-type quorum: a classic queue lives on one node and is gone while that node is down");
    const file = nodeControl.split(/\s+/)[0] as string;
    if (!isRunnable(file)) throw usageError(`--node-control '${nodeControl}': command not found or not executable: ${file}`);
  } else if (nodeControl !== null) throw usageError("--node-control is for --chaos kill-node:DURATION (it kills and starts the nodes)");
  return { specs, text: chaosText(specs), nodeControl };
}

export function planBench(flags: BenchFlags): BenchPlan {
  const target = brokerTarget(flags);
  const reconnectTimeoutMs = flags.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT_MS;
  // The URL goes to the workers in TASKQ_URL (round.ts), not in argv: anyone on the host can read argv (ps).
  const workerArgs = ["--connect-timeout", String(flags.connectTimeout), "--reconnect-timeout", String(reconnectTimeoutMs)];
  for (const [flag, path] of [["--ca", flags.ca], ["--cert", flags.cert], ["--key", flags.key]] as const) if (path) workerArgs.push(flag, path);
  return {
    target,
    workerArgs,
    workers: flags.workers,
    tasks: flags.tasks,
    profile: parseProfile(flags.work),
    prefetches: autoNeedsClassic(parsePrefetchList(flags.prefetch), flags.queueType ?? "classic"),
    rounds: flags.rounds,
    seed: flags.seed,
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    report: flags.report ?? null,
    stallMs: flags.stall,
    queueType: flags.queueType ?? "classic",
    reconnectTimeoutMs,
    chaos: planChaos(flags, target),
  };
}

/** Long enough for a node of a cluster to be killed and started again. */
const DEFAULT_RECONNECT_TIMEOUT_MS = 120_000;

const WRITE_ERRORS: Record<string, string> = { ENOENT: "no such directory", EACCES: "permission denied", EPERM: "permission denied", EISDIR: "is a directory", ENOTDIR: "a parent is not a directory", EROFS: "read-only file system" };

/**
 * Makes sure the report can be written before any work is done: opens it for
 * appending (which neither truncates an existing file nor needs it to exist).
 * Returns a function that removes it again if this check created it.
 */
function checkWritable(path: string): () => void {
  let existed = true;
  try {
    closeSync(openSync(path, "r"));
  } catch {
    existed = false;
  }
  try {
    closeSync(openSync(path, "a"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw usageError(`--report '${path}': cannot write it (${WRITE_ERRORS[code] ?? (code || (err as Error).message)})`);
  }
  return () => {
    if (!existed) {
      try {
        unlinkSync(path);
      } catch {}
    }
  };
}

export async function runBench(plan: BenchPlan): Promise<number> {
  const durations = taskDurations(plan.profile, plan.tasks, plan.seed);
  const startedAt = new Date();
  const forgetReport = plan.report === null ? null : checkWritable(plan.report);
  const aborter = new AbortController();
  const onSignal = () => aborter.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const runs: RunResult[] = [];
  const medians: RunResult[] = [];
  const chatty = !plan.json && !plan.quiet;
  const chaos = plan.chaos;
  // The same workers and nodes die for the same --seed (when the timing lets them).
  const random = seededRandom(plan.seed ^ 0x5eed);
  const nodes = chaos?.nodeControl ? new NodeControl(chaos.nodeControl, plan.target.urls.length) : undefined;
  try {
    // Fail fast, in one line, when the broker cannot be reached at all.
    await (await connect(plan.target, { name: "taskq bench" })).close();
    for (const prefetch of plan.prefetches) {
      const mine: RunResult[] = [];
      for (let round = 1; round <= plan.rounds; round++) {
        const label = `prefetch ${prefetch}${plan.rounds > 1 ? `, ${round}/${plan.rounds}` : ""}`;
        if (chatty) process.stderr.write(`round: ${label}...\n`);
        const progress = progressBar({ label: "tasks done", total: plan.tasks, enabled: chatty });
        try {
          const run = await runRound({
            target: plan.target,
            workerArgs: plan.workerArgs,
            workers: plan.workers,
            prefetch,
            durations,
            work: plan.profile.text,
            stallMs: plan.stallMs,
            signal: aborter.signal,
            onProgress: (done, total) => progress.update(done, total),
            // The report draws the first round of each prefetch value.
            timeline: plan.report !== null && round === 1,
            queueType: plan.queueType,
            ...(chaos
              ? {
                  chaos: {
                    specs: chaos.specs,
                    text: chaos.text,
                    ...(nodes ? { nodes } : {}),
                    reconnectTimeoutMs: plan.reconnectTimeoutMs,
                    random,
                    ...(chatty ? { say: (line: string) => process.stderr.write(`\n${line}\n`) } : {}),
                  },
                }
              : {}),
          });
          mine.push(run);
          runs.push({ ...run, ...{ round } });
        } finally {
          progress.stop();
        }
      }
      medians.push(medianRun(mine));
    }
  } catch (err) {
    forgetReport?.();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  console.log(plan.json ? jsonReport(runs, medians, { seed: plan.seed, rounds: plan.rounds, queueType: plan.queueType, chaos: chaos?.text ?? null }) : tableReport(medians, { ...plan, chaos: chaos?.text ?? null }));
  if (plan.report !== null) {
    const meta = {
      tasks: plan.tasks,
      workers: plan.workers,
      work: plan.profile.text,
      seed: plan.seed,
      rounds: plan.rounds,
      prefetches: plan.prefetches,
      queueType: plan.queueType,
      chaos: chaos?.text ?? null,
      startedAt,
      host: hostname(),
      version: VERSION,
      runtime: `Bun ${Bun.version}, ${process.platform} ${process.arch}, ${cpus().length} CPUs`,
    };
    try {
      writeFileSync(plan.report, htmlReport(runs, medians, meta));
    } catch (err) {
      throw new TaskqError(`--report '${plan.report}': cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (chatty) process.stderr.write(`report: ${plan.report}\n`);
  }
  const bad = runs.filter((r) => !accountedFor(r));
  const list = (ids: number[]) => ids.slice(0, 20).join(",") + (ids.length > 20 ? ",..." : "");
  if (chaos && bad.length > 0) {
    // At least once is the promise under chaos: duplicates are expected (see the table), a missing task is a loss.
    const missing = bad.reduce((sum, r) => sum + r.missing, 0);
    const where = bad.map((r) => `prefetch ${r.prefetch}: ${r.missing} of ${r.tasks} after ${r.kills.worker} worker and ${r.kills.node} node kill(s) [${list(r.missingIds)}]`).join("; ");
    throw new TaskqError(`${missing} task(s) lost under --chaos ${chaos.text} (${where})`, ExitCode.runtime);
  }
  for (const r of bad) {
    process.stderr.write(`taskq: prefetch ${r.prefetch}: ${r.missing} task(s) missing [${list(r.missingIds)}], ${r.duplicates} duplicated [${list(r.duplicateIds)}]\n`);
  }
  if (bad.length > 0) throw new TaskqError("not every task was done exactly once", ExitCode.runtime);
  return ExitCode.ok;
}

export function benchCommand() {
  return withBrokerFlags(new Command("bench"))
    .description("measure fair dispatch: spawn workers, publish a workload, account for every task")
    .option("-w, --workers <n>", "worker processes to spawn", intInRange(1, 64), 4)
    .option("-n, --tasks <n>", "tasks per round", intInRange(1, 10_000_000), 2000)
    .option("--work <profile>", "task durations: 0, 5ms, exp:5ms, mix:90%5ms,10%50ms, cycle:50ms,5ms", "mix:90%5ms,10%50ms")
    .option("-p, --prefetch <list>", "one round per prefetch value, e.g. 1,auto,100 (auto: see work --prefetch)", "1,100")
    .option("--rounds <k>", "repeat each prefetch K times; report medians", intInRange(1, 100), 1)
    .option("--seed <s>", "seed of the workload's random durations (and of which worker or node --chaos kills)", intInRange(0, 2 ** 32 - 1), 1)
    .option("--stall <duration>", "give up on a round when no task finished for this long (under --chaos: not while a node is down, and counted again from its return)", duration, 30_000)
    .option("--queue-type <type>", "declare the round's queue as classic or quorum (replicated: what --chaos kill-node needs)", queueType, "classic" as QueueType)
    .option("--reconnect-timeout <duration>", "how long workers (and the sender, under --chaos) keep looking for a broker after losing one", duration, DEFAULT_RECONNECT_TIMEOUT_MS)
    .option("--chaos <spec>", "inject faults during each round: kill-worker:DURATION (SIGKILL a random worker, start a new one), kill-node:DURATION (kill -9 a node, start it again); comma-separated")
    .option("--node-control <cmd>", "for kill-node: a command run as 'CMD kill N' and 'CMD start N', N = 1..number of URLs (e.g. scripts/cluster)")
    .option("--json", "print one JSON document")
    .option("--report <path>", "also write an HTML report (self-contained: table, timelines, latencies)")
    .option("--quiet", "no progress bar and no round lines (the results still print)")
    .action(async (flags) => {
      process.exitCode = await runBench(planBench(flags));
    });
}
