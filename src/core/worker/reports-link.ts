import type { Broker } from "../broker/connection.ts";

/**
 * The reports' own connection, opened on first use and again after a loss. Neither the consuming
 * connection (its acks) nor the copies' one: RabbitMQ stops reading from a connection that
 * publishes during a memory or disk alarm, and a report would then leave the copies' connection
 * unable even to open the channel a retry copy needs (so the worker could not say copies wait).
 */
export class ReportsLink {
  private broker: Promise<Broker> | undefined;
  private closed = false;

  constructor(private readonly connect: () => Promise<Broker>) {}

  connection(): Promise<Broker> {
    if (this.closed) return Promise.reject(new Error("the worker's reports are closed"));
    if (this.broker) return this.broker;
    const opening: Promise<Broker> = this.connect().then(
      (broker) => {
        void broker.lost.then(() => {
          if (this.broker === opening) this.broker = undefined;
          void broker.close();
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

  async close(): Promise<void> {
    this.closed = true;
    await (await this.broker?.catch(() => undefined))?.close();
  }
}
