import type { Broker, BrokerTarget } from "./connection.ts";
import { Reconnector, type ReconnectorOptions } from "./reconnector.ts";

/**
 * A connection of one's own, opened on first use and again after a loss: the worker's copies and
 * its reports each keep one (never the consuming connection: RabbitMQ blocks a connection that
 * publishes during a memory or disk alarm, and reads nothing more from it: test/e2e/alarm.test.ts).
 */
export class LazyBroker {
  private broker: Promise<Broker> | undefined;
  private closed = false;

  /** `onLost`: told when the open connection is lost (after it is closed and forgotten). */
  constructor(
    private readonly connect: () => Promise<Broker>,
    private readonly onLost?: (broker: Broker) => void,
  ) {}

  /** The connection, opened if need be; rejects once closed. */
  current(): Promise<Broker> {
    if (this.closed) return Promise.reject(new Error("the connection is closed for good"));
    if (this.broker) return this.broker;
    const opening: Promise<Broker> = this.connect().then(
      (broker) => {
        void broker.lost.then(() => {
          if (this.broker === opening) this.broker = undefined;
          void broker.close();
          this.onLost?.(broker);
        });
        return broker;
      },
      (err: unknown) => {
        if (this.broker === opening) this.broker = undefined;
        throw err;
      },
    );
    this.broker = opening;
    return opening;
  }

  /** Closes the connection, if one was opened, and opens none again. */
  async close(): Promise<void> {
    this.closed = true;
    await (await this.broker?.catch(() => undefined))?.close();
  }
}

/**
 * The connect function of a LazyBroker: every call through one Reconnector, told of each loss of
 * the connection it handed out, so the call after a loss starts with the address after the lost
 * one (one silent after the handshake, its declare unanswered, is not dialled first again). A call
 * has `target.connectTimeoutMs`; one that gave up ends its outage, and the next call (a copy tried
 * again) begins a new one.
 */
export function reconnecting(
  target: BrokerTarget,
  options: Omit<ReconnectorOptions, "timeoutMs"> = {},
): () => Promise<Broker> {
  const reconnector = new Reconnector(target, { ...options, timeoutMs: target.connectTimeoutMs });
  return async () => {
    try {
      const broker = await reconnector.connect();
      void broker.lost.then((why) => reconnector.lost(broker, why));
      return broker;
    } catch (err) {
      reconnector.recovered();
      throw err;
    }
  };
}
