import { ABORTED, untilAborted } from "../../util/abort.ts";
import type { Broker, BrokerTarget } from "../broker/connection.ts";
import type { Prefetch } from "./auto-prefetch.ts";
import type { QueueType } from "../topology/names.ts";
import { type Attempt, Reconnector, type ReconnectorOptions, Stopped } from "../broker/reconnector.ts";
import { type Deliver, Session, type WorkSession } from "./session.ts";
import { type ConnectError, isLost } from "../broker/connect-error.ts";

/** Where the worker gets its sessions: the first one, and one after each loss (a fake in unit tests). */
export interface SessionSource {
  /**
   * Rejects with `Stopped` when `signal` aborts first, even while the session is being opened (nothing is left
   * consuming).
   */
  first(deliver: Deliver, signal: AbortSignal): Promise<WorkSession>;
  /**
   * A new session after `lost` went away; rejects with `Stopped` when `signal` aborts (as `first`), or when the outage
   * lasts too long.
   */
  next(lost: WorkSession, deliver: Deliver, signal: AbortSignal): Promise<WorkSession>;
}

export interface ConsumeSpec {
  queue: string;
  prefetch: Prefetch;
  concurrency: number;
  queueType: QueueType;
  /** Shown in the management UI's connection list. */
  name?: string;
  /**
   * Every task's outcome comes within this long of its start (work --timeout plus --kill-after; the
   * library's timeoutMs): where the broker takes a consumer timeout per consumer, it is set above it
   * (consumer-timeout.ts), so the broker never takes back a task still running.
   */
  taskBoundMs?: number;
  /** After a loss, keep reconnecting this long; without it a lost connection ends the worker. */
  reconnectTimeoutMs?: number;
  onAttempt?: (attempt: Attempt) => void;
  /**
   * Told when the queue exists as the other type than `queueType` (classic vs quorum) and is used
   * as that type: once, not per reconnect (later sessions declare it as found).
   */
  onQueueType?: (type: QueueType) => void;
}

/**
 * Sessions on real brokers: the first within `target.connectTimeoutMs`, the
 * next ones within `reconnectTimeoutMs`, each from a reconnector (which picks
 * the address and owns the outage). The first and the next alike: a connection
 * lost while its session is being set up (it answered the handshake, then not
 * the declare or consume within the bound) counts against the outage, and the
 * session is opened on the next address; a session whose first task was acked
 * ends the outage.
 */
export function brokerSessions(
  target: BrokerTarget,
  spec: ConsumeSpec,
  shared: Pick<ReconnectorOptions, "cursor" | "clock" | "sleep" | "dial"> = {},
): SessionSource {
  const named = { ...(spec.name ? { name: spec.name } : {}), ...shared };
  // Quiet while it tries: a broker that never answers is one line (the error), as for any command.
  const starting = new Reconnector(target, { ...named, timeoutMs: target.connectTimeoutMs });
  const hooks = { ...named, ...(spec.onAttempt ? { onAttempt: spec.onAttempt } : {}) };
  const reconnector =
    spec.reconnectTimeoutMs === undefined
      ? undefined
      : new Reconnector(target, { ...hooks, timeoutMs: spec.reconnectTimeoutMs });
  const worked = () => reconnector?.recovered();
  let queueType = spec.queueType;
  const open = async (broker: Broker, deliver: Deliver, signal: AbortSignal) => {
    const session = await openSession(broker, { ...spec, queueType }, deliver, signal, worked);
    if (session.workQueue.adopted) {
      queueType = session.workQueue.type;
      spec.onQueueType?.(queueType);
    }
    return session;
  };
  /** A session on the next connection that answers, after `lost` (a connection gone) if given. */
  const opened = async (
    from: Reconnector,
    deliver: Deliver,
    signal: AbortSignal,
    lost?: Broker,
    why?: Error,
    say?: (a: Attempt) => void,
  ) => {
    for (let attempt = 1; ; attempt++) {
      const broker = lost ? await from.replace(lost, { signal, ...(why ? { why } : {}) }) : await from.connect(signal);
      try {
        return await open(broker, deliver, signal);
      } catch (err) {
        if (!isLost(err)) throw err;
        // Connected, then lost while opening the session (no answer, a crash loop): it counts, and the next address.
        [lost, why] = [broker, err as Error];
        say?.({
          address: `${broker.address.host}:${broker.address.port}`,
          attempt,
          error: err as ConnectError,
          delayMs: 0,
        });
      }
    }
  };
  return {
    first: (deliver, signal) => opened(starting, deliver, signal),
    async next(lost, deliver, signal) {
      await lost.close();
      if (!reconnector) throw await lost.lost;
      // Why it went (its `lost` has resolved by now; undefined if the caller replaces it unasked).
      const why: Error | undefined = await Promise.race([lost.lost, Promise.resolve(undefined)]);
      return opened(reconnector, deliver, signal, (lost as Session).broker, why, spec.onAttempt);
    },
  };
}

/**
 * A consuming session on `broker`. A stop while it is being opened closes the connection (and so
 * any consumer the open made) and rejects with Stopped: nothing is left holding tasks. Any other
 * failure closes the connection too.
 */
export async function openSession(
  broker: Broker,
  spec: ConsumeSpec,
  deliver: Deliver,
  signal: AbortSignal,
  worked?: () => void,
): Promise<Session> {
  const opening = Session.open(broker, {
    queue: spec.queue,
    prefetch: spec.prefetch,
    concurrency: spec.concurrency,
    queueType: spec.queueType,
    deliver,
    ...(worked ? { onWorked: worked } : {}),
    ...(spec.taskBoundMs !== undefined ? { taskBoundMs: spec.taskBoundMs } : {}),
  });
  try {
    const session = await untilAborted(opening, signal);
    if (session === ABORTED) throw new Stopped();
    return session;
  } catch (err) {
    void opening.then(
      (late) => late.close(),
      () => {},
    );
    await broker.close();
    throw err;
  }
}
