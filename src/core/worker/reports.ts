import type { ChannelModel, ConfirmChannel } from "amqplib";
import { hostName } from "../../util/host.ts";
import { type Broker, quiet, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS } from "../broker/liveness.ts";
import { alarmOf } from "../publish/alarm.ts";
import { settledWithin } from "../../util/clock.ts";
import {
  DEFAULT_REPORT_MS,
  REPORTS_EXCHANGE,
  type WorkerReport,
  declareReportsExchange,
  isRefusal,
  refusalDetail,
} from "../topology/reports-exchange.ts";
import type { Prefetch } from "./auto-prefetch.ts";
import type { Task } from "../task.ts";
import type { WorkerEvent } from "./worker-state.ts";

export { DEFAULT_REPORT_MS, REPORTS_EXCHANGE, type WorkerReport };

/** What a report says that never changes over the worker's life. */
export interface ReportIdentity {
  host: string;
  pid: number;
  queue: string;
  startedAt: number;
  intervalMs: number;
  concurrency: number;
  prefetch: Prefetch;
}

/**
 * A worker's report, kept up to date from its WorkerEvents alone (as metrics/workerMetrics.ts
 * is): the tasks running now and the counts since start.
 */
export class ReportBuilder {
  /** Keyed by the Task object: two deliveries of one message id are two tasks. */
  private readonly running = new Map<Task, number>();
  private readonly counts = { done: 0, retried: 0, dead: 0, handedBack: 0, lost: 0 };
  private state: WorkerReport["state"] = "running";

  constructor(private readonly identity: ReportIdentity) {}

  observe(event: WorkerEvent): void {
    switch (event.type) {
      case "start":
        this.running.set(event.task, event.at);
        break;
      case "finish":
        this.running.delete(event.task);
        this.counts[SETTLED_COUNT[event.settled]]++;
        break;
      case "stopping":
        this.state = "stopping";
        break;
      case "state":
        if (event.to === "stopped") this.state = "stopped";
        break;
    }
  }

  report(at: number): WorkerReport {
    const { host, pid, queue, startedAt, intervalMs, concurrency, prefetch } = this.identity;
    const tasks = [...this.running].map(([task, started]) => ({
      id: task.messageId ?? null,
      attempt: task.attempt,
      startedAt: Math.round(started),
    }));
    return {
      worker: `${host}:${pid}`,
      host,
      pid,
      queue,
      startedAt,
      at,
      intervalMs,
      state: this.state,
      concurrency,
      prefetch,
      counts: { ...this.counts },
      tasks,
    };
  }
}

/** taskq's longest message expiry, 2^32 - 1 ms (the broker refuses past 10 years: test/e2e/broker-rules.test.ts). */
const MAX_EXPIRATION_MS = 2 ** 32 - 1;

/** Which count each settlement adds to (a "requeued" task went back to the queue unstarted or on a stop). */
const SETTLED_COUNT = { acked: "done", retry: "retried", dead: "dead", requeued: "handedBack", lost: "lost" } as const;

export interface ReporterOptions {
  /**
   * The connection to publish on: never the consuming one (an alarm blocks a publishing connection, and its acks with
   * it).
   */
  connection: () => Promise<Broker>;
  /** Told once if the broker refuses the exchange: the worker then carries on without reports. */
  onOff?: (why: string) => void;
}

/**
 * Publishes the worker's report every interval from its first consuming session on, and a last
 * `stopped` one when it ends cleanly: non-persistent, not mandatory, expiring after three intervals
 * (nobody listening: the broker drops them; test/e2e/worker-reports.test.ts). A report that cannot
 * go out now (no connection yet, the connection blocked by an alarm, lost) is skipped: it never
 * fails or delays a task.
 */
export class Reporter {
  private timer: ReturnType<typeof setInterval> | undefined;
  private current: { channel: ConfirmChannel; model: ChannelModel } | undefined;
  /** The last report's confirm: the worker closes the connection only once it went out. */
  private last: Promise<void> | undefined;
  private opening = false;
  private off = false;
  /** Consuming began (`ready`): reports go out from then on. */
  private started = false;

  constructor(
    private readonly builder: ReportBuilder,
    private readonly identity: ReportIdentity,
    private readonly options: ReporterOptions,
  ) {}

  /** Feeds the builder and starts or ends the reports; never throws (it runs inside the worker's emit). */
  observe(event: WorkerEvent): void {
    this.builder.observe(event);
    if (event.type === "ready") {
      this.started = true;
      this.send();
      this.timer ??= setInterval(() => this.send(), this.identity.intervalMs);
      this.timer.unref();
    } else if (event.type === "state" && (event.to === "stopped" || event.to === "failed")) {
      if (event.to === "stopped") this.send(true); // the last one: the worker closes the connection after `flushed`
      clearInterval(this.timer);
      this.off = true;
    }
  }

  /**
   * Resolves once the `stopped` report was confirmed, or after `ms`: amqplib writes a message a
   * tick later but a connection's close at once, so a close right after the publish loses it
   * (the `stopped` report that arrives: test/e2e/worker-reports.test.ts).
   */
  async flushed(ms = 1000): Promise<void> {
    if (this.last !== undefined) await settledWithin(this.last, ms);
  }

  private send(last = false): void {
    if (this.off) return;
    const current = this.current;
    if (!current) return void this.open();
    if (alarmOf(current.model).reason !== null) return;
    try {
      const report = this.builder.report(Date.now());
      const body = Buffer.from(JSON.stringify(report));
      const options = {
        expiration: String(Math.min(3 * this.identity.intervalMs, MAX_EXPIRATION_MS)),
        contentType: "application/json",
      };
      if (!last) current.channel.publish(REPORTS_EXCHANGE, this.identity.queue, body, options);
      else
        this.last = new Promise((resolve) =>
          current.channel.publish(REPORTS_EXCHANGE, this.identity.queue, body, options, () => resolve()),
        );
    } catch {
      this.current = undefined; // closed under us: opened again for the next one
    }
  }

  /** A channel on the connection, the exchange declared, then the report that asked for it. */
  private async open(): Promise<void> {
    if (this.opening) return;
    this.opening = true;
    try {
      const broker = await this.options.connection();
      const model = broker.model;
      alarmOf(model); // before the first report: a copier's publisher opened later must know of a block it caused
      // Confirms only so that the last report is known to be out before the connection closes.
      const channel = quiet(await model.createConfirmChannel());
      channel.on("close", () => {
        if (this.current?.channel === channel) this.current = undefined;
      });
      try {
        await whileUp(broker, declareReportsExchange(channel), {
          ms: ANSWER_TIMEOUT_MS,
          what: `declaring exchange '${REPORTS_EXCHANGE}'`,
        });
      } catch (err) {
        if (isRefusal(err))
          this.turnOff(
            `the broker refused exchange '${REPORTS_EXCHANGE}' (${refusalDetail(err)}); carrying on without worker reports`,
          );
        void channel.close().catch(() => {});
        return;
      }
      if (this.off) return void channel.close().catch(() => {});
      this.current = { channel, model };
      if (this.started) this.send(); // the one that asked for the channel, now
    } catch {
      // No connection now (an outage, the worker closing): the next interval tries again.
    } finally {
      this.opening = false;
    }
  }

  private turnOff(why: string): void {
    if (this.off) return;
    this.off = true;
    clearInterval(this.timer);
    this.options.onOff?.(why);
  }
}

/** A reporter for a worker on `queue`, every `intervalMs`. */
export function workerReporter(
  options: Omit<ReportIdentity, "host" | "pid" | "startedAt">,
  reporter: ReporterOptions,
): Reporter {
  const identity: ReportIdentity = { host: hostName(), pid: process.pid, startedAt: Date.now(), ...options };
  return new Reporter(new ReportBuilder(identity), identity, reporter);
}
