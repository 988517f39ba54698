import { writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { runRateRound } from "../bench/open-loop.ts";
import type { RateFigures } from "../bench/rate-figures.ts";
import { rateHtmlReport } from "../bench/rate-html.ts";
import { rateAccountedFor, rateJson, type RateMeta, rateTable } from "../bench/rate-report.ts";
import { tasksIn } from "../bench/rate-schedule.ts";
import { taskDurations } from "../bench/workload.ts";
import { connect } from "../core/broker/reconnector.ts";
import { brokerProduct } from "../core/broker/rabbit-version.ts";
import { ExitCode, TaskqError } from "../errors.ts";
import { progressBar } from "../util/progress.ts";
import { VERSION } from "../version.ts";
import type { BenchPlan } from "./bench-plan.ts";
import type { RatePlan } from "./bench-rate-plan.ts";
import { checkWritable } from "./report-file.ts";

/** `bench --rate`: one open-loop run per rate, lowest first; prints the table or the JSON, writes the report. */
export async function runRateBench(plan: BenchPlan, rate: RatePlan): Promise<number> {
  const startedAt = new Date();
  const forgetReport = plan.report === null ? null : checkWritable(plan.report);
  const aborter = new AbortController();
  const onSignal = () => aborter.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const chatty = !plan.json && !plan.quiet;
  const results: RateFigures[] = [];
  let broker = "unknown broker"; // as the broker names itself, for the reports
  try {
    // Fail fast, in one line, when the broker cannot be reached at all.
    const probe = await connect(plan.target, { name: "taskq bench" });
    broker = brokerProduct(probe) ?? "unknown broker";
    await probe.close();
    for (const target of rate.rates) {
      if (chatty)
        process.stderr.write(`round: ${target} tasks/s for ${(rate.warmupMs + rate.durationMs) / 1000} s...\n`);
      const total = tasksIn(rate.warmupMs, target) + Math.max(1, tasksIn(rate.durationMs, target));
      const progress = progressBar({ label: "tasks done", total, enabled: chatty });
      try {
        results.push(
          await runRateRound({
            target: plan.target,
            workerArgs: plan.workerArgs,
            workers: plan.workers,
            prefetch: rate.prefetch,
            rate: target,
            warmupMs: rate.warmupMs,
            durationMs: rate.durationMs,
            durations: taskDurations(rate.profile, total, plan.seed),
            stallMs: plan.stallMs,
            queueType: plan.queueType,
            queuePrefix: plan.queuePrefix,
            signal: aborter.signal,
            onProgress: (done, all) => progress.update(done, all),
          }),
        );
      } finally {
        progress.stop();
      }
    }
  } catch (err) {
    forgetReport?.();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const meta: RateMeta = {
    workers: plan.workers,
    prefetch: rate.prefetch,
    work: rate.profile.text,
    seed: plan.seed,
    queueType: plan.queueType,
    warmupMs: rate.warmupMs,
    durationMs: rate.durationMs,
    broker,
  };
  console.log(plan.json ? rateJson(results, meta) : rateTable(results, meta));
  if (plan.report !== null) {
    const page = rateHtmlReport(results, {
      ...meta,
      startedAt,
      host: hostname(),
      version: VERSION,
      runtime: `Bun ${Bun.version}, ${process.platform} ${process.arch}, ${cpus().length} CPUs`,
    });
    try {
      writeFileSync(plan.report, page);
    } catch (err) {
      throw new TaskqError(
        `--report '${plan.report}': cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    if (chatty) process.stderr.write(`report: ${plan.report}\n`);
  }
  const bad = results.filter((r) => !rateAccountedFor(r));
  for (const r of bad)
    process.stderr.write(`taskq: ${r.target} tasks/s: ${r.missing} task(s) missing, ${r.duplicates} duplicated\n`);
  if (bad.length > 0) throw new TaskqError("not every task was done exactly once", ExitCode.runtime);
  return ExitCode.ok;
}
