import { writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { Command } from "@commander-js/extra-typings";
import { FREEZE_HOLD_MS } from "../bench/chaos.ts";
import { htmlReport } from "../bench/html.ts";
import { NodeControl } from "../bench/node-control.ts";
import { accountedFor, jsonReport, medianRun, tableReport } from "../bench/report.ts";
import { runRound } from "../bench/round.ts";
import type { RunResult } from "../bench/run-result.ts";
import { seededRandom, taskDurations } from "../bench/workload.ts";
import type { QueueType } from "../core/topology/names.ts";
import { connect } from "../core/broker/reconnector.ts";
import { brokerProduct } from "../core/broker/rabbit-version.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { type BenchPlan, DEFAULT_RECONNECT_TIMEOUT_MS, planBench } from "./bench-plan.ts";
import { durationText } from "../util/duration.ts";
import { progressBar } from "../util/progress.ts";
import { VERSION } from "../version.ts";
import { withBrokerFlags } from "./broker-flags.ts";
import { runRateBench } from "./bench-rate.ts";
import { DEFAULT_RATE_DURATION_MS, DEFAULT_RATE_WARMUP_MS } from "./bench-rate-plan.ts";
import { checkWritable } from "./report-file.ts";
import { duration, intInRange, queueType } from "./parsers.ts";

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
  let broker = "unknown broker"; // as the broker names itself ("RabbitMQ 3.10.8"), for the reports
  const chaos = plan.chaos;
  // The same workers and nodes die for the same --seed (when the timing lets them).
  const random = seededRandom(plan.seed ^ 0x5eed);
  const nodes = chaos?.nodeControl ? new NodeControl(chaos.nodeControl, plan.target.urls.length) : undefined;
  try {
    // Fail fast, in one line, when the broker cannot be reached at all.
    const probe = await connect(plan.target, { name: "taskq bench" });
    broker = brokerProduct(probe) ?? "unknown broker";
    await probe.close();
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
            queuePrefix: plan.queuePrefix,
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
  console.log(
    plan.json
      ? jsonReport(runs, medians, {
          seed: plan.seed,
          rounds: plan.rounds,
          queueType: plan.queueType,
          chaos: chaos?.text ?? null,
          broker,
        })
      : tableReport(medians, { ...plan, chaos: chaos?.text ?? null, broker }),
  );
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
      throw new TaskqError(
        `--report '${plan.report}': cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    if (chatty) process.stderr.write(`report: ${plan.report}\n`);
  }
  const bad = runs.filter((r) => !accountedFor(r));
  const list = (ids: number[]) => ids.slice(0, 20).join(",") + (ids.length > 20 ? ",..." : "");
  if (chaos && bad.length > 0) {
    // At least once is the promise under chaos: duplicates are expected (see the table), a missing task is a loss.
    const missing = bad.reduce((sum, r) => sum + r.missing, 0);
    const where = bad
      .map(
        (r) =>
          `prefetch ${r.prefetch}: ${r.missing} of ${r.tasks} after ${r.kills.worker} worker and ${r.kills.node} node kill(s)${r.freezes > 0 ? ` and ${r.freezes} node freeze(s)` : ""} [${list(r.missingIds)}]`,
      )
      .join("; ");
    throw new TaskqError(`${missing} task(s) lost under --chaos ${chaos.text} (${where})`, ExitCode.runtime);
  }
  for (const r of bad) {
    process.stderr.write(
      `taskq: prefetch ${r.prefetch}: ${r.missing} task(s) missing [${list(r.missingIds)}], ${r.duplicates} duplicated [${list(r.duplicateIds)}]\n`,
    );
  }
  if (bad.length > 0) throw new TaskqError("not every task was done exactly once", ExitCode.runtime);
  return ExitCode.ok;
}

export function benchCommand() {
  return withBrokerFlags(new Command("bench"))
    .description("measure fair dispatch: spawn workers, publish a workload, account for every task")
    .option("-w, --workers <n>", "worker processes to spawn", intInRange(1, 64), 4)
    .option("-n, --tasks <n>", "tasks per round", intInRange(1, 10_000_000), 2000)
    .option(
      "--work <profile>",
      "task durations: 0, 5ms, exp:5ms, mix:90%5ms,10%50ms, cycle:50ms,5ms",
      "mix:90%5ms,10%50ms",
    )
    .option(
      "-p, --prefetch <list>",
      "one round per prefetch value, e.g. 1,auto,100 (auto: see work --prefetch)",
      "1,100",
    )
    .option("--rounds <k>", "repeat each prefetch K times; report medians", intInRange(1, 100), 1)
    .option(
      "--seed <s>",
      "seed of the workload's random durations (and of which worker or node --chaos kills or freezes)",
      intInRange(0, 2 ** 32 - 1),
      1,
    )
    .option(
      "--stall <duration>",
      "give up on a round when no task finished for this long (under --chaos: not while a node is down or frozen, and counted again from its return)",
      duration,
      30_000,
    )
    .option(
      "--queue-type <type>",
      "declare the round's queue as classic or quorum (replicated: what --chaos kill-node and freeze-node need)",
      queueType,
      "classic" as QueueType,
    )
    .option(
      "--reconnect-timeout <duration>",
      "how long workers (and the sender, under --chaos) keep looking for a broker after losing one",
      duration,
      DEFAULT_RECONNECT_TIMEOUT_MS,
    )
    .option(
      "--chaos <spec>",
      `inject faults during each round: kill-worker:DURATION (SIGKILL a random worker, start a new one), kill-node:DURATION (kill -9 a node, start it again), freeze-node:DURATION (SIGSTOP a node for ${durationText(FREEZE_HOLD_MS)}, then thaw it); comma-separated`,
    )
    .option(
      "--node-control <cmd>",
      "for kill-node and freeze-node: a command run as 'CMD kill N', 'CMD start N', 'CMD freeze N', 'CMD thaw N', N = 1..number of URLs (e.g. scripts/cluster)",
    )
    .option(
      "--handler <cmd>",
      "the workers run each task with CMD (split on spaces), as work -- CMD does; its body: 'task N ' then a '.' per ms of --work",
    )
    .option(
      "--persistent",
      "with --handler: each worker keeps CMD running and feeds it task after task (work --persistent)",
    )
    .option("--json", "print one JSON document")
    .option("--report <path>", "also write an HTML report (self-contained: table, timelines, latencies)")
    .option(
      "--rate <list>",
      "open loop: publish at a fixed rate, tasks per second, one run per rate (e.g. 500,1000,2000); latency from each task's intended send time",
    )
    .option(
      "--rate-duration <duration>",
      "with --rate: how long each rate is sent and counted",
      duration,
      DEFAULT_RATE_DURATION_MS,
    )
    .option(
      "--rate-warmup <duration>",
      "with --rate: sent first at each rate and not counted",
      duration,
      DEFAULT_RATE_WARMUP_MS,
    )
    .option("--queue-prefix <prefix>", "each round's queue is <prefix>-<8 hex> (default taskq-bench)")
    .option("--quiet", "no progress bar and no round lines (the results still print)")
    .action(async (flags, command) => {
      // --rate defaults --work and --prefetch otherwise, and refuses --tasks: the plan needs to know which were typed.
      const given = new Set(
        command.options
          .map((o) => o.attributeName())
          .filter((key) => !["default", undefined].includes(command.getOptionValueSource(key))),
      );
      const plan = planBench(flags, given);
      process.exitCode = plan.rate ? await runRateBench(plan, plan.rate) : await runBench(plan);
    });
}
