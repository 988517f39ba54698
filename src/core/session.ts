import type { Channel, ConsumeMessage } from "amqplib";
import { randomBytes } from "node:crypto";
import { Acker } from "./acker.ts";
import { type Broker, quiet } from "./connection.ts";
import { DeadLetters } from "./deadletter.ts";
import { Publisher } from "./publisher.ts";
import { type QueueType, declareQueue } from "./queue.ts";
import { Retries } from "./retries.ts";

/**
 * One connection's worth of consuming: its channel, its acks, its consumer.
 * A task's ack belongs to the session that delivered it; when the session
 * dies, its unacked tasks are the broker's to redeliver, never acked on the
 * next session.
 */
export class Session {
  open = true;
  consumerTag = "";
  /** Delivered, not yet started (prefetch beyond concurrency). */
  readonly pending: ConsumeMessage[] = [];
  readonly acker: Acker;
  private closing = false;

  readonly deadLetters: DeadLetters;
  readonly retries: Retries;
  /** Confirms the retry and dead-letter copies; replaced once a publish failed (its channel is done). */
  private publisher: Promise<Publisher>;

  private constructor(
    readonly broker: Broker,
    readonly channel: Channel,
    publisher: Publisher,
    queueType: QueueType,
  ) {
    this.acker = new Acker(channel, () => this.open);
    this.publisher = Promise.resolve(publisher);
    const current = () => this.currentPublisher();
    this.deadLetters = new DeadLetters(broker, current, queueType);
    this.retries = new Retries(broker, current, queueType);
  }

  static async open(broker: Broker, queue: string, prefetch: number, queueType: QueueType): Promise<Session> {
    const channel = quiet(await broker.model.createChannel());
    await declareQueue(broker, channel, queue, queueType);
    await channel.prefetch(prefetch);
    return new Session(broker, channel, await Publisher.open(broker, { window: 64 }), queueType);
  }

  /** The publisher for copies; a failed one (nack, unroutable, refused) is closed and a fresh one opened. */
  private currentPublisher(): Promise<Publisher> {
    const fresh = () => Publisher.open(this.broker, { window: 64 });
    this.publisher = this.publisher.then(
      (p) => {
        if (!p.failed) return p;
        void p.closeWhenSettled(); // copies still in flight on it get their own answers
        return fresh();
      },
      fresh, // the last one could not even be opened: try again
    );
    return this.publisher;
  }

  /** Resolves when the channel or the connection goes away without us closing it. */
  lost(): Promise<Error> {
    return Promise.race([
      this.broker.lost,
      // On a dropped connection the channel closes first: give the connection's reason a moment to win.
      new Promise<Error>((resolve) =>
        this.channel.on("close", () => {
          if (this.closing) return;
          // Closed now: no ack may go out on it (written to the socket, it would make the broker drop the connection).
          this.open = false;
          setTimeout(() => resolve(new Error("the broker closed the consuming channel")), 100);
        }),
      ),
    ]).then((err) => {
      this.open = false;
      return err;
    });
  }

  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => void): Promise<void> {
    // Our own tag, known before the first delivery: amqplib runs the callback for deliveries that
    // arrive with consume-ok before `await` returns, and a stop then must be able to cancel.
    this.consumerTag = `taskq-${randomBytes(8).toString("hex")}`;
    await this.channel.consume(queue, onMessage, { noAck: false, consumerTag: this.consumerTag });
  }

  async cancel(): Promise<void> {
    if (!this.open || !this.consumerTag) return;
    this.acker.queueBehind();
    await this.channel.cancel(this.consumerTag).catch(() => {});
  }

  /** Closes channel and connection; a broker that never answers the close cannot hold it past `timeoutMs`. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    this.acker.flush();
    this.open = false;
    const closed = (async () => {
      await (await this.publisher.catch(() => undefined))?.close();
      await this.channel.close().catch(() => {});
      await this.broker.close();
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([closed, giveUp]);
    clearTimeout(timer);
  }
}
