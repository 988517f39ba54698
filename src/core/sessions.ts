import { isLost } from "./connect-error.ts";
import type { Broker, BrokerTarget } from "./connection.ts";
import type { Prefetch } from "./prefetch.ts";
import type { QueueType } from "./queue.ts";
import { type Attempt, Reconnector, connect } from "./reconnector.ts";
import { type Deliver, Session, type WorkSession } from "./session.ts";

/** Where the worker gets its sessions: the first one, and one after each loss (a fake in unit tests). */
export interface SessionSource {
  /** Rejects with `Stopped` when `signal` aborts first. */
  first(deliver: Deliver, signal: AbortSignal): Promise<WorkSession>;
  /** A new session after `lost` went away; rejects with `Stopped` when `signal` aborts, or when the outage lasts too long. */
  next(lost: WorkSession, deliver: Deliver, signal: AbortSignal): Promise<WorkSession>;
}

export interface ConsumeSpec {
  queue: string;
  prefetch: Prefetch;
  concurrency: number;
  queueType: QueueType;
  /** Shown in the management UI's connection list. */
  name?: string;
  /** After a loss, keep reconnecting this long; without it a lost connection ends the worker. */
  reconnectTimeoutMs?: number;
  onAttempt?: (attempt: Attempt) => void;
}

/**
 * Sessions on real brokers: the first within `target.connectTimeoutMs`, the
 * next ones from one reconnector (which picks the address and owns the
 * outage). A connection lost again while its session is being set up counts
 * against the same outage.
 */
export function brokerSessions(target: BrokerTarget, spec: ConsumeSpec): SessionSource {
  const hooks = { ...(spec.name ? { name: spec.name } : {}), ...(spec.onAttempt ? { onAttempt: spec.onAttempt } : {}) };
  const reconnector = spec.reconnectTimeoutMs === undefined ? undefined : new Reconnector(target, { ...hooks, timeoutMs: spec.reconnectTimeoutMs });
  const open = async (broker: Broker, deliver: Deliver) => {
    try {
      return await Session.open(broker, spec.queue, spec.prefetch, spec.concurrency, spec.queueType, deliver);
    } catch (err) {
      await broker.close();
      throw err;
    }
  };
  return {
    async first(deliver, signal) {
      // Quiet while it tries: a broker that never answers is one line (the error), as for any command.
      return open(await connect(target, { ...(spec.name ? { name: spec.name } : {}), signal }), deliver);
    },
    async next(lost, deliver, signal) {
      await lost.close();
      if (!reconnector) throw await lost.lost;
      reconnector.lost((lost as Session).broker);
      for (;;) {
        const fresh = await reconnector.connect(signal);
        try {
          return await open(fresh, deliver);
        } catch (err) {
          if (!isLost(err)) throw err;
          reconnector.lost(fresh);
        }
      }
    },
  };
}
