import type { WorkerReports } from "../core/admin/worker-reports.ts";
import { ConnectError } from "../core/broker/connect-error.ts";
import type { Broker } from "../core/broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../core/broker/liveness.ts";
import { ABORTED, untilAborted } from "../util/abort.ts";
import { sleep } from "../util/clock.ts";
import { durationText } from "../util/duration.ts";
import { errorJson, statusJson } from "./status-json.ts";
import type { StatusPlan } from "./status-plan.ts";
import { type Sample, readyRate, statusLine, watchFrame } from "./status-view.ts";

type WatchPlan = StatusPlan & { watchMs: number };

/** Where samples go: a refreshing screen, a line each, or a JSON object each. */
interface View {
  sample(sample: Sample, rate: number | undefined): void;
  /** Samples cannot be taken (the connection dropped, the broker is unreachable); the watch goes on. */
  error(at: number, message: string): void;
}

const CLEAR = "\x1b[H\x1b[2J";

export function viewFor(plan: WatchPlan, terminal: boolean): View {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  if (plan.json)
    return {
      sample: (s, rate) => print(JSON.stringify(statusJson(s, rate))),
      error: (at, message) => print(JSON.stringify(errorJson(at, plan.queue, message))),
    };
  if (terminal) {
    // One write per frame, so the screen never shows half of one.
    const draw = (lines: string[]) => process.stdout.write(`${CLEAR}${lines.join("\n")}\n`);
    return {
      sample: (s, rate) => draw(watchFrame(s, plan.watchMs, rate)),
      error: (at, message) =>
        draw([
          `taskq status '${plan.queue}', every ${durationText(plan.watchMs)} (Ctrl+C to stop)`,
          "",
          `${new Date(at).toTimeString().slice(0, 8)} ${message}`,
          "reconnecting...",
        ]),
    };
  }
  // Lines stay one sample each: what the AMQP view misses is said on stderr, once per cause.
  let said: string | undefined;
  const note = (s: Sample) => {
    if (s.status.missing !== undefined && s.status.missing !== said)
      process.stderr.write(`taskq status: note: ${s.status.missing}\n`);
    said = s.status.missing;
  };
  return {
    sample: (s, rate) => {
      note(s);
      print(statusLine(s, rate));
    },
    error: (at, message) => print(`${new Date(at).toISOString()} ${plan.queue}: ${message}; reconnecting`),
  };
}

/** The AMQP code, loaded when a command runs (--help, --version and completions never load it). */
export const amqp = async () => {
  const [{ Reconnector, connect, whileUp }, { queueStatus }, { managementClient }, reports] = await Promise.all([
    import("../core/broker/reconnector.ts").then(async (r) => ({
      ...r,
      ...(await import("../core/broker/connection.ts")),
    })),
    import("../core/admin/queue-status.ts"),
    import("../core/admin/management.ts"),
    import("../core/admin/worker-reports.ts"),
  ]);
  /** One reading of the queue on `broker` (and of the workers, from `workers` when given). */
  const take = async (
    broker: Broker,
    plan: StatusPlan,
    workers?: () => Promise<Sample["workers"]>,
  ): Promise<Sample> => {
    const management =
      plan.management === false
        ? undefined
        : managementClient(broker.address, {
            ...plan.management,
            ...(plan.target.tls?.ca === undefined ? {} : { ca: plan.target.tls.ca }),
          });
    const [status, reported] = await Promise.all([
      queueStatus(broker, plan.queue, { retry: plan.retry, ...(management === undefined ? {} : { management }) }),
      workers?.(),
    ]);
    return { at: Date.now(), status, ...(reported === undefined ? {} : { workers: reported }) };
  };
  return { Reconnector, connect, whileUp, take, ...reports };
};

/**
 * Samples until `signal` aborts. The first connection must succeed (as for any
 * command); after that a lost broker is one line saying so (again only if the
 * cause changes), and the next samples connect again: a watch outlives a broker restart.
 * With --workers, a WorkerReports listens on each connection for as long as it lasts.
 */
export async function runWatch(plan: WatchPlan, view: View, signal: AbortSignal, name: string): Promise<void> {
  const { Reconnector, whileUp, take, WorkerReports, REPORTS_LISTEN_MS } = await amqp();
  // An outage's deadline is --connect-timeout; past it each sample tries once more (the next address of a cluster).
  const reconnector = new Reconnector(plan.target, { timeoutMs: plan.target.connectTimeoutMs, name });
  const first = await untilAborted(reconnector.connect(signal), signal);
  if (first === ABORTED) return;
  let broker: Broker | undefined = first;
  let reports: WorkerReports | undefined;
  let previous: Sample | undefined;
  let lastError: string | undefined;
  try {
    while (!signal.aborted) {
      let started = Date.now();
      try {
        if (broker === undefined) {
          const next = await untilAborted(reconnector.connect(signal), signal);
          if (next === ABORTED) break;
          broker = next;
        }
        const live: Broker = broker;
        if (plan.workers && reports === undefined) {
          const opened = await untilAborted(
            whileUp(live, WorkerReports.open(live, plan.queue), {
              ms: ANSWER_TIMEOUT_MS,
              what: "listening to worker reports",
            }),
            signal,
          );
          if (opened === ABORTED) break;
          reports = opened;
          // A reader that just opened has heard nobody yet: listen as one-shot status does before the first sample.
          await sleep(REPORTS_LISTEN_MS, signal);
          // The interval runs from the sample, not from before the listen: else, with a listen as long as the
          // interval, the next sample came a few ms after this one, with a rate over those few ms.
          started = Date.now();
        }
        if (signal.aborted) break;
        const workers = reports === undefined ? undefined : async () => (reports as WorkerReports).current();
        const sample = await untilAborted(
          whileUp(live, take(live, plan, workers), { ms: ANSWER_TIMEOUT_MS, what: "a status sample" }),
          signal,
        );
        if (sample === ABORTED) break;
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
        reports = undefined; // its channel went with the connection
        previous = undefined; // a rate across an outage would mean little
      }
      await sleep(plan.watchMs - (Date.now() - started), signal);
    }
  } finally {
    await reports?.close();
    await broker?.close(); // bounded (Broker.close), even on a broker that stopped answering
  }
}
