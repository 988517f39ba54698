import type { Channel, ConsumeMessage } from "amqplib";
import { TaskqError } from "../../errors.ts";
import { type Broker, quiet, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import { redact } from "../broker/url.ts";
import {
  DEFAULT_REPORT_MS,
  REPORTS_EXCHANGE,
  type WorkerReport,
  declareReportsExchange,
  isRefusal,
  parseReport,
  refusalDetail,
} from "../topology/reports-exchange.ts";
import { sleep } from "../../util/clock.ts";

/** A worker silent for more than this many of its own intervals is taken for gone. */
const SILENT_INTERVALS = 3;

/**
 * The workers of one queue, as they report themselves (worker/reports.ts): a queue of the
 * reader's own (exclusive, auto-delete, server-named) bound to the reports' exchange with the work
 * queue's name, consumed without acks; the latest report per worker is kept. Read-only towards
 * the work queue: it only declares the exchange (as workers do) and its own queue.
 *
 * @example
 * const reports = await WorkerReports.open(broker, "task_queue");
 * await sleep(2500);
 * reports.current(); // [{ worker: "web-1:4242", state: "running", tasks: [...] , ... }]
 * await reports.close();
 */
export class WorkerReports {
  /** Per worker (and start: two workers of one process are two), the latest report and when it came, by this clock. */
  private readonly latest = new Map<string, { report: WorkerReport; heardAt: number }>();

  private constructor(
    private readonly channel: Channel,
    private readonly queue: string,
  ) {}

  static async open(broker: Broker, queue: string): Promise<WorkerReports> {
    const channel = quiet(await broker.model.createChannel());
    try {
      const bound = { ms: ANSWER_TIMEOUT_MS, what: `listening to exchange '${REPORTS_EXCHANGE}'` };
      await whileUp(broker, declareReportsExchange(channel), bound);
      const { queue: own } = await whileUp(
        broker,
        channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false }),
        bound,
      );
      await whileUp(broker, channel.bindQueue(own, REPORTS_EXCHANGE, queue), bound);
      const reports = new WorkerReports(channel, queue);
      await whileUp(
        broker,
        channel.consume(own, (msg) => reports.take(msg), { noAck: true }),
        bound,
      );
      return reports;
    } catch (err) {
      void channel.close().catch(() => {});
      throw reportsError(broker, err);
    }
  }

  private take(msg: ConsumeMessage | null): void {
    const report = msg && parseReport(msg.content);
    // A binding key is a pattern: a queue named `a.*` also hears `a.b`'s workers.
    if (!report || report.queue !== this.queue) return;
    const key = `${report.worker} ${report.startedAt}`;
    const known = this.latest.get(key)?.report;
    if (known && known.at > report.at) return; // an older one, late
    this.latest.set(key, { report, heardAt: Date.now() });
  }

  /**
   * The latest report of each worker still there at `at` (ms since the epoch): stopped ones and
   * those silent for more than three of their intervals are left out. Times are moved onto this
   * clock (a report's `at` is taken as when it was heard), so another host's clock does not skew
   * how long a task has been running. Ordered by worker.
   */
  current(at = Date.now()): WorkerReport[] {
    const out: WorkerReport[] = [];
    for (const { report, heardAt } of this.latest.values()) {
      if (report.state === "stopped" || at - heardAt > SILENT_INTERVALS * report.intervalMs) continue;
      const shift = heardAt - report.at;
      out.push({
        ...report,
        startedAt: report.startedAt + shift,
        at: heardAt,
        tasks: report.tasks.map((t) => ({ ...t, startedAt: t.startedAt + shift })),
      });
    }
    return out.sort((a, b) => a.worker.localeCompare(b.worker) || a.startedAt - b.startedAt);
  }

  /** Closes the channel: the broker deletes the reader's queue with it (test/e2e/broker-rules.test.ts). */
  async close(): Promise<void> {
    await this.channel.close().catch(() => {});
  }
}

/** How long a reader listens before it says who is there: each worker on the default interval is heard once. */
export const REPORTS_LISTEN_MS = DEFAULT_REPORT_MS + 500;

/**
 * The workers reporting on `queue` now: listens for `waitMs` (default a bit over one default
 * interval, so each worker on the default interval is heard once), then closes. Workers reporting
 * less often than `waitMs` may be missed.
 */
export async function collectWorkerReports(
  broker: Broker,
  queue: string,
  waitMs = REPORTS_LISTEN_MS,
): Promise<WorkerReport[]> {
  const reports = await WorkerReports.open(broker, queue);
  try {
    await whileUp(broker, sleep(waitMs));
    return reports.current();
  } finally {
    await reports.close();
  }
}

/** A refusal of the exchange or the reader's queue, as one line; a lost connection stays as it is. */
function reportsError(broker: Broker, err: unknown): unknown {
  if (err instanceof TaskqError || !isRefusal(err)) return err;
  return new TaskqError(
    `cannot read worker reports: the broker refused exchange '${REPORTS_EXCHANGE}' (${redact(refusalDetail(err), broker.address)})`,
  );
}
