import { Command } from "@commander-js/extra-typings";
import { type RunResult, runRound } from "../bench/round.ts";
import { jsonReport, medianRun, tableReport } from "../bench/report.ts";
import { type Profile, parseProfile, taskDurations } from "../bench/workload.ts";
import { type BrokerTarget, connect } from "../core/connection.ts";
import { ExitCode, TaskqError, usageError } from "../errors.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { duration, intInRange } from "./parsers.ts";

export interface BenchPlan {
  target: BrokerTarget;
  /** Broker flags handed on to the spawned workers. */
  workerArgs: string[];
  workers: number;
  tasks: number;
  profile: Profile;
  prefetches: number[];
  rounds: number;
  seed: number;
  json: boolean;
  stallMs: number;
}

/** Parses `1,10,100` into distinct prefetch values in [1, 65535]. */
export function parsePrefetchList(text: string): number[] {
  const values = text.split(",").map((part) => {
    const v = part.trim();
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw usageError(`--prefetch '${text}': each value must be a whole number from 1 to 65535`);
    return Number(v);
  });
  return [...new Set(values)];
}

type BenchFlags = BrokerFlags & { workers: number; tasks: number; work: string; prefetch: string; rounds: number; seed: number; json?: boolean; stall: number };

export function planBench(flags: BenchFlags): BenchPlan {
  const target = brokerTarget(flags);
  // The URL goes to the workers in TASKQ_URL (round.ts), not in argv: anyone on the host can read argv (ps).
  const workerArgs = ["--connect-timeout", String(flags.connectTimeout)];
  for (const [flag, path] of [["--ca", flags.ca], ["--cert", flags.cert], ["--key", flags.key]] as const) if (path) workerArgs.push(flag, path);
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
    stallMs: flags.stall,
  };
}

export async function runBench(plan: BenchPlan): Promise<number> {
  const durations = taskDurations(plan.profile, plan.tasks, plan.seed);
  const aborter = new AbortController();
  const onSignal = () => aborter.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const runs: RunResult[] = [];
  const medians: RunResult[] = [];
  // Fail fast, in one line, when the broker cannot be reached at all.
  await (await connect(plan.target, { name: "taskq bench" })).close();
  try {
    for (const prefetch of plan.prefetches) {
      const mine: RunResult[] = [];
      for (let round = 1; round <= plan.rounds; round++) {
        if (!plan.json) process.stderr.write(`round: prefetch ${prefetch}${plan.rounds > 1 ? `, ${round}/${plan.rounds}` : ""}...\n`);
        const run = await runRound({ target: plan.target, workerArgs: plan.workerArgs, workers: plan.workers, prefetch, durations, work: plan.profile.text, stallMs: plan.stallMs, signal: aborter.signal });
        mine.push(run);
        runs.push({ ...run, ...{ round } });
      }
      medians.push(medianRun(mine));
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  console.log(plan.json ? jsonReport(runs, medians, { seed: plan.seed, rounds: plan.rounds }) : tableReport(medians, plan));
  const bad = runs.filter((r) => r.missing > 0 || r.duplicates > 0);
  for (const r of bad) {
    const list = (ids: number[]) => ids.slice(0, 20).join(",") + (ids.length > 20 ? ",..." : "");
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
    .option("-p, --prefetch <list>", "one round per prefetch value, e.g. 1,10,100", "1,100")
    .option("--rounds <k>", "repeat each prefetch K times; report medians", intInRange(1, 100), 1)
    .option("--seed <s>", "seed of the workload's random durations", intInRange(0, 2 ** 32 - 1), 1)
    .option("--stall <duration>", "give up on a round when no task finished for this long", duration, 30_000)
    .option("--json", "print one JSON document")
    .action(async (flags) => {
      process.exitCode = await runBench(planBench(flags));
    });
}
