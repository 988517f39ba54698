import type { Channel } from "amqplib";

/**
 * Workers' reports, as they travel: a topic exchange of taskq's own, routing key = the work
 * queue's name. It lives here, below worker/ (which sends) and admin/ (which reads), so that
 * neither imports the other; worker/reports.ts re-exports it for callers.
 */
export const REPORTS_EXCHANGE = "taskq.workers";
export const DEFAULT_REPORT_MS = 2000;

/** What one worker says about itself every interval. */
export interface WorkerReport {
  /** `${host}:${pid}` */
  worker: string;
  host: string;
  pid: number;
  queue: string;
  /** ms since the epoch */
  startedAt: number;
  /** when sent */
  at: number;
  intervalMs: number;
  state: "running" | "stopping" | "stopped";
  concurrency: number;
  prefetch: number | "auto";
  counts: { done: number; retried: number; dead: number; handedBack: number; lost: number };
  /** the tasks running now */
  tasks: Array<{ id: string | null; attempt: number; startedAt: number }>;
}

/** Durable topic, as both sides declare it: whoever comes first creates it, the same way. */
export async function declareReportsExchange(channel: Channel): Promise<void> {
  await channel.assertExchange(REPORTS_EXCHANGE, "topic", { durable: true });
}

/**
 * A refusal that will not change by trying again (403 access refused, 406 an exchange of another type:
 * test/unit/core/topology/reports-exchange.test.ts, the broker's texts).
 */
export const isRefusal = (err: unknown): boolean => {
  const code = (err as { code?: number } | undefined)?.code;
  return code === 403 || code === 406;
};

/** The broker's own words in a refusal (`inequivalent arg 'type' ...`), without amqplib's wrapping. */
export const refusalDetail = (err: unknown): string => {
  const text = String((err as Error | undefined)?.message ?? err);
  return (/(?:PRECONDITION_FAILED|ACCESS_REFUSED) - ([^"]*)/.exec(text)?.[1] ?? text).trim();
};

const STATES: ReadonlySet<unknown> = new Set(["running", "stopping", "stopped"]);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;

/** A report read off the wire, or undefined for anything else (someone else's message, another version's). */
export function parseReport(body: Buffer): WorkerReport | undefined {
  let r: Partial<WorkerReport>;
  try {
    r = JSON.parse(body.toString("utf8")) as Partial<WorkerReport>;
  } catch {
    return undefined;
  }
  if (typeof r !== "object" || r === null) return undefined;
  if (typeof r.worker !== "string" || typeof r.host !== "string" || typeof r.queue !== "string" || !isCount(r.pid))
    return undefined;
  if (!isCount(r.startedAt) || !isCount(r.at) || !isCount(r.intervalMs) || r.intervalMs === 0 || !STATES.has(r.state))
    return undefined;
  if (!isCount(r.concurrency) || !(r.prefetch === "auto" || isCount(r.prefetch))) return undefined;
  const c = r.counts;
  if (typeof c !== "object" || c === null || ![c.done, c.retried, c.dead, c.handedBack, c.lost].every(isCount))
    return undefined;
  if (
    !Array.isArray(r.tasks) ||
    !r.tasks.every(
      (t) =>
        typeof t === "object" &&
        t !== null &&
        (t.id === null || typeof t.id === "string") &&
        isCount(t.attempt) &&
        isCount(t.startedAt),
    )
  )
    return undefined;
  return r as WorkerReport;
}
