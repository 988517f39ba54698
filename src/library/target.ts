import type { BrokerTarget } from "../core/broker/connection.ts";
import { MAX_HEARTBEAT_S } from "../core/broker/liveness.ts";
import { parseBrokerUrls, resolveUrls } from "../core/broker/url.ts";
import { usageError } from "../errors.ts";

/** Where the broker is; everything is optional. */
export interface ConnectionOptions {
  /**
   * One broker, or the nodes of one cluster, tried in order, then round robin after a loss.
   * Default: TASKQ_URL, then AMQP_URL (comma-separated), then amqp://guest:guest@localhost:5672.
   */
  url?: string | string[];
  /** amqps: PEM contents of the CA, client certificate and key. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Keep trying to connect this long (default 5 s). */
  connectTimeoutMs?: number;
  /** After losing the broker, keep reconnecting this long (default 5 min). */
  reconnectTimeoutMs?: number;
  /**
   * AMQP heartbeat in seconds (default 5; 0 = off). A broker or network that stops answering
   * without closing anything (a cut link, a frozen VM) is noticed after two missed beats, 10-15 s
   * at 5, and taskq fails over to the next URL (test/e2e/partition.test.ts); off, only the
   * operating system notices, after minutes or never. A URL's `?heartbeat=N` wins. See
   * `TaskHandler` for what a handler that blocks the event loop does to it.
   */
  heartbeat?: number;
}

/** The broker target of a library call, checked before anything connects. */
export function target(options: ConnectionOptions, timeoutMs?: number): BrokerTarget {
  const urls = resolveUrls(options.url);
  parseBrokerUrls(urls);
  const t: BrokerTarget = { urls, connectTimeoutMs: timeoutMs ?? options.connectTimeoutMs ?? 5000 };
  if (options.tls) t.tls = options.tls;
  if (options.heartbeat !== undefined) {
    const h = options.heartbeat;
    if (!Number.isInteger(h) || h < 0 || h > MAX_HEARTBEAT_S)
      throw usageError(`heartbeat must be whole seconds from 0 (off) to ${MAX_HEARTBEAT_S}, got ${h}`);
    t.heartbeatS = h;
  }
  return t;
}
