import { closeSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { Command } from "@commander-js/extra-typings";
import { htmlReport } from "../bench/html.ts";
import { jsonReport, medianRun, tableReport } from "../bench/report.ts";
import { type RunResult, runRound } from "../bench/round.ts";
import { type Profile, parseProfile, taskDurations } from "../bench/workload.ts";
import type { BrokerTarget } from "../core/connection.ts";
import { connect } from "../core/reconnector.ts";
import { ExitCode, TaskqError, usageError } from "../errors.ts";
import { progressBar } from "../util/progress.ts";
import { VERSION } from "../version.ts";
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
  /** No progress bar, no round lines. */
  quiet: boolean;
  /** Where to write the HTML report, if anywhere. */
  report: string | null;
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

type BenchFlags = BrokerFlags & { workers: number; tasks: number; work: string; prefetch: string; rounds: number; seed: number; json?: boolean; quiet?: boolean; report?: string; stall: number };

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
    quiet: flags.quiet ?? false,
    report: flags.report ?? null,
    stallMs: flags.stall,
  };
}

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
  console.log(plan.json ? jsonReport(runs, medians, { seed: plan.seed, rounds: plan.rounds }) : tableReport(medians, plan));
  if (plan.report !== null) {
    const meta = {
      tasks: plan.tasks,
      workers: plan.workers,
      work: plan.profile.text,
      seed: plan.seed,
      rounds: plan.rounds,
      prefetches: plan.prefetches,
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
    .option("--report <path>", "also write an HTML report (self-contained: table, timelines, latencies)")
    .option("--quiet", "no progress bar and no round lines (the results still print)")
    .action(async (flags) => {
      process.exitCode = await runBench(planBench(flags));
    });
}
