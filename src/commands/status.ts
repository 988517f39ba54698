import { Command } from "@commander-js/extra-typings";
import { ConnectError } from "../core/broker/connect-error.ts";
import type { Broker, BrokerTarget } from "../core/broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../core/broker/liveness.ts";
import { DEFAULT_RETRY, type RetryDelays } from "../core/failures/retry-policy.ts";
import { ExitCode, usageError } from "../errors.ts";
import { sleep } from "../util/clock.ts";
import { durationText } from "../util/duration.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { duration } from "./parsers.ts";
import { type Sample, errorJson, readyRate, statusJson, statusLine, statusTable, watchFrame } from "./status-view.ts";

export const DEFAULT_WATCH_MS = 2000;
/** A faster watch would mostly measure itself: each sample is a dozen passive declares. */
export const MIN_WATCH_MS = 100;

export interface StatusPlan {
  target: BrokerTarget;
  queue: string;
  /** The workers' retry delays: they name the retry queues to look for. */
  retry: RetryDelays;
  json: boolean;
  /** Sample every this many ms until Ctrl+C; absent: one sample. */
  watchMs?: number;
}

type StatusFlags = BrokerFlags & { queue: string; json?: boolean; watch?: number | true; retryDelay: number; retryMaxDelay: number };

/** Flags to one plan, checked before any connection. */
export function planStatus(flags: StatusFlags): StatusPlan {
  if (flags.queue.length === 0 || Buffer.byteLength(flags.queue) > 250) throw usageError("--queue must be 1 to 250 bytes long (its dead queue adds '.dead')");
  if (flags.retryDelay <= 0) throw usageError("--retry-delay must be above 0");
  if (flags.retryMaxDelay < flags.retryDelay) throw usageError("--retry-max-delay must be at least --retry-delay");
  const plan: StatusPlan = {
    target: brokerTarget(flags),
    queue: flags.queue,
    retry: { baseDelayMs: flags.retryDelay, maxDelayMs: flags.retryMaxDelay },
    json: flags.json ?? false,
  };
  if (flags.watch !== undefined) {
    const ms = flags.watch === true ? DEFAULT_WATCH_MS : flags.watch;
    if (ms < MIN_WATCH_MS) throw usageError(`--watch interval must be at least ${MIN_WATCH_MS}ms, got ${ms}ms`);
    plan.watchMs = ms;
  }
  return plan;
}

/** Where samples go: a refreshing screen, a line each, or a JSON object each. */
interface View {
  sample(sample: Sample, rate: number | undefined): void;
  /** Samples cannot be taken (the connection dropped, the broker is unreachable); the watch goes on. */
  error(at: number, message: string): void;
}

const CLEAR = "\x1b[H\x1b[2J";

function viewFor(plan: StatusPlan & { watchMs: number }, terminal: boolean): View {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  if (plan.json) return { sample: (s, rate) => print(JSON.stringify(statusJson(s, rate))), error: (at, message) => print(JSON.stringify(errorJson(at, plan.queue, message))) };
  if (terminal) {
    // One write per frame, so the screen never shows half of one.
    const draw = (lines: string[]) => process.stdout.write(`${CLEAR}${lines.join("\n")}\n`);
    return {
      sample: (s, rate) => draw(watchFrame(s, plan.watchMs, rate)),
      error: (at, message) => draw([`taskq status '${plan.queue}', every ${durationText(plan.watchMs)} (Ctrl+C to stop)`, "", `${new Date(at).toTimeString().slice(0, 8)} ${message}`, "reconnecting..."]),
    };
  }
  return { sample: (s, rate) => print(statusLine(s, rate)), error: (at, message) => print(`${new Date(at).toISOString()} ${plan.queue}: ${message}; reconnecting`) };
}

const NAME = "taskq status";

/** The AMQP code, loaded when a command runs (--help, --version and completions never load it). */
const amqp = async () => {
  const [{ Reconnector, connect }, { whileUp }, { queueStatus }] = await Promise.all([import("../core/broker/reconnector.ts"), import("../core/broker/connection.ts"), import("../core/admin/queue-status.ts")]);
  return { Reconnector, connect, whileUp, queueStatus };
};

async function runOnce(plan: StatusPlan): Promise<void> {
  const { connect, whileUp, queueStatus } = await amqp();
  const broker = await connect(plan.target, { name: NAME });
  try {
    const status = await whileUp(broker, queueStatus(broker, plan.queue, plan.retry));
    const sample: Sample = { at: Date.now(), status };
    if (plan.json) console.log(JSON.stringify(statusJson(sample)));
    else for (const line of statusTable(sample)) console.log(line);
  } finally {
    await broker.close();
  }
}

/**
 * Samples until `signal` aborts. The first connection must succeed (as for any
 * command); after that a lost broker is one line saying so (again only if the
 * cause changes), and the next samples connect again: a watch outlives a broker restart.
 */
async function runWatch(plan: StatusPlan & { watchMs: number }, view: View, signal: AbortSignal): Promise<void> {
  const { Reconnector, whileUp, queueStatus } = await amqp();
  // An outage's deadline is --connect-timeout; past it each sample tries once more (the next address of a cluster).
  const reconnector = new Reconnector(plan.target, { timeoutMs: plan.target.connectTimeoutMs, name: NAME });
  let broker: Broker | undefined = await untilAborted(reconnector.connect(signal), signal);
  if (broker === undefined) return;
  let previous: Sample | undefined;
  let lastError: string | undefined;
  try {
    while (!signal.aborted) {
      const started = Date.now();
      try {
        broker ??= await untilAborted(reconnector.connect(signal), signal);
        if (broker === undefined) break;
        const status = await untilAborted(whileUp(broker, queueStatus(broker, plan.queue, plan.retry), { ms: ANSWER_TIMEOUT_MS, what: "a status sample" }), signal);
        if (status === undefined) break;
        const sample: Sample = { at: Date.now(), status };
        view.sample(sample, readyRate(previous, sample));
        previous = sample;
        lastError = undefined;
        reconnector.recovered();
      } catch (err) {
        if (signal.aborted) break;
        // whileUp made a loss (closed, heartbeat missed, no answer in time) a retryable ConnectError.
        if (!(err instanceof ConnectError && err.retryable)) throw err;
        // Once per outage and cause, not once per interval: a broker down for an hour is not 1800 lines.
        const message = (err as Error).message;
        if (message !== lastError) view.error(Date.now(), message);
        lastError = message;
        if (broker !== undefined) {
          reconnector.lost(broker);
          void broker.close();
        }
        broker = undefined;
        previous = undefined; // a rate across an outage would mean little
      }
      await sleep(plan.watchMs - (Date.now() - started), signal);
    }
  } finally {
    await broker?.close(); // bounded (Broker.close), even on a broker that stopped answering
  }
}

/** `work`'s result, or undefined as soon as `signal` aborts (the work is left to finish or fail unseen). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** First Ctrl+C (or SIGTERM) ends the watch: exit 0. A second exits at once (130), should closing hang. */
async function watchUntilSignal(plan: StatusPlan & { watchMs: number }): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(ExitCode.interrupted);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runWatch(plan, viewFor(plan, process.stdout.isTTY === true), controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const HELP_AFTER = `
Reads only: passive declares, never creating a queue. A work queue that does
not exist yet prints "no such queue yet" and exits 0.

Retry levels are found from the retry policy, not listed (that would need the
management plugin): taskq looks for <queue>.retry.<ms> at each level that
--retry-delay and --retry-max-delay give (defaults as for work). Pass the
values your workers use; levels from other settings are not seen.

The oldest dead task is the head of <queue>.dead, peeked at: fetched unacked
and handed back at once (it stays first, marked redelivered).

--watch: on a terminal a screen redrawn every INTERVAL, with how fast the
ready count changes; into a pipe one line per sample (one JSON object per
line with --json). Ctrl+C ends it with exit 0. A lost broker is shown once
and the watch reconnects.`;

export function statusCommand() {
  return withBrokerFlags(new Command("status"))
    .description("show a work queue's ready tasks, consumers, retry levels and dead tasks (read-only)")
    .option("-q, --queue <name>", "work queue to show", "task_queue")
    .option("--retry-delay <duration>", "the workers' --retry-delay: names the retry levels to look for", duration, DEFAULT_RETRY.baseDelayMs)
    .option("--retry-max-delay <duration>", "the workers' --retry-max-delay", duration, DEFAULT_RETRY.maxDelayMs)
    .option("--json", "print one JSON object (one per line and sample with --watch)")
    .option("--watch [interval]", `sample again every INTERVAL (default ${DEFAULT_WATCH_MS / 1000}s) until Ctrl+C`, duration)
    .addHelpText("after", HELP_AFTER)
    .action(async (flags) => {
      const plan = planStatus(flags);
      if (plan.watchMs === undefined) await runOnce(plan);
      else await watchUntilSignal({ ...plan, watchMs: plan.watchMs });
    });
}
