/**
 * How long taskq waits for a broker before it takes the connection for gone: one table, read by
 * connection.ts (the heartbeat, the open, the close) and by every caller through `whileUp`.
 *
 * A connection is gone when (the one rule): its socket closed or errored, the broker closed it,
 * a heartbeat was missed, or an answer taskq waits for did not come within its bound. Each of
 * these resolves `Broker.lost`; nothing else decides it.
 */

/**
 * The AMQP heartbeat taskq asks for, in seconds (a URL's `?heartbeat=N` and `--heartbeat` win).
 * RabbitMQ's guidance is 5-20 s (below 5 s, false alarms: its "Detecting Dead TCP Connections with
 * Heartbeats" guide); the Go client takes 10 s, pika and amqplib the broker's 60 s (their docs).
 * With 5 s a silent peer is noticed after two missed intervals: by the client 10-15 s after the
 * last byte (amqplib checks once an interval: test/e2e/amqplib-texts.test.ts), by the broker ~10 s
 * (it then requeues what the connection held: test/e2e/long-task.test.ts). Heartbeats go out only on an otherwise idle
 * connection: a busy one pays nothing. A false alarm needs the event loop blocked for 10 s.
 */
export const DEFAULT_HEARTBEAT_S = 5;

/** The heartbeat field is an unsigned short (seconds). */
export const MAX_HEARTBEAT_S = 65_535;

/**
 * Each step of opening a session (channel, declare, qos, consume; a publisher's channel; a passive
 * check) gets its answer within this, or the connection is dropped and the next address tried:
 * an address that accepts and never answers costs one bounded attempt. Generous next to a healthy
 * broker's milliseconds (a quorum declare on a loaded 3-node cluster: under 2 s here), and it still
 * bounds an open when heartbeats are off.
 */
export const ANSWER_TIMEOUT_MS = 10_000;

/**
 * A call failed: wait this long for the connection to say it went (amqplib rejects a channel's
 * pending calls while it closes the connection, just before the connection's 'close'). Both
 * happen in one turn of the event loop; the margin is for a loaded machine.
 */
export const LOSS_GRACE_MS = 20;

/** Closing a connection politely waits this long for the broker's close-ok, then cuts the socket. */
export const CLOSE_TIMEOUT_MS = 2000;

/** Longest one attempt at one address may take: TCP connect, TLS and the AMQP handshake. */
export const DIAL_TIMEOUT_MS = 5000;

/**
 * A connection lost sooner than this after it was handed out (and before it did real work) belongs to the same outage.
 */
export const YOUNG_CONNECTION_MS = 5000;

/**
 * How young a loss must be to count against the outage under way: at least YOUNG_CONNECTION_MS,
 * and long enough for the slowest way a new connection can fail to be seen: an open that never
 * completes (ANSWER_TIMEOUT_MS) or a connection silent from the start (three heartbeat intervals).
 * Shorter, a path that answers the handshake and then nothing would start a new outage with each
 * connection, and --reconnect-timeout would never be reached.
 */
export function youngWithinMs(heartbeatS: number = DEFAULT_HEARTBEAT_S): number {
  return Math.max(YOUNG_CONNECTION_MS, ANSWER_TIMEOUT_MS + 3 * heartbeatS * 1000);
}
