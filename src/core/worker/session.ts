import type { Channel, ConsumeMessage } from "amqplib";
import { Acker } from "./acker.ts";
import { Consumer } from "./consumer.ts";
import { type Broker, quiet, whileUp } from "../broker/connection.ts";
import { settledWithin } from "../../util/clock.ts";
import { ANSWER_TIMEOUT_MS, CLOSE_TIMEOUT_MS } from "../broker/liveness.ts";
import type { Prefetch } from "./auto-prefetch.ts";
import type { QueueType } from "../topology/names.ts";
import { type WorkQueue, declareWorkQueue, queueStillThere } from "../topology/queues.ts";
import { redact } from "../broker/url.ts";
import type { Deliver, WorkSession } from "./work-session.ts";
import {
  type ConsumerTimedOut,
  cancelledForTimeout,
  consumerArguments,
  consumerTimeoutIn,
  mostHeld,
  raiseHint,
} from "./consumer-timeout.ts";

// What the worker needs of a session (a fake one in the unit tests): work-session.ts.
export type { Deliver, WorkSession } from "./work-session.ts";

/**
 * Most tasks in reserve on a quorum queue: zero-work tasks on the local cluster ran at 2.4x prefetch
 * 1 with 2 in reserve and 7.7x with 99, while a reserve held by one worker is work another may wait
 * for at the end of a run.
 */
export const RESERVE_LIMIT_REPLACED = 8;

/**
 * One connection's worth of consuming: its channel, its acks, its consumer.
 * A task's ack belongs to the session that delivered it; when the session
 * dies, its unacked tasks are the broker's to redeliver, never acked on the
 * next session. It never publishes (copies go out on a connection of their
 * own), so a memory or disk alarm never blocks its acks.
 */
export class Session implements WorkSession {
  open = true;
  readonly pending: ConsumeMessage[] = [];
  readonly lost: Promise<Error>;
  private readonly acker: Acker;
  private readonly consumer: Consumer;
  private closing = false;
  private worked = false;
  onTimeout?: (why: ConsumerTimedOut, taken: readonly ConsumeMessage[]) => void;

  private constructor(
    readonly broker: Broker,
    private readonly channel: Channel,
    /** The consumer's own prefetch (per consumer), set before it consumed. */
    private readonly ownPrefetch: number,
    /** The queue it consumes, as declared: the type it is used as (see declareWorkQueue). */
    readonly workQueue: WorkQueue,
    deliver: Deliver,
    /** Told once, at the first ack: the connection does real work. */
    private readonly onWorked?: () => void,
    consumerArgs?: Record<string, unknown>,
  ) {
    this.acker = new Acker(channel, () => this.open);
    const onMessage = (msg: ConsumeMessage) => {
      this.acker.track(msg);
      deliver(this, msg);
    };
    this.consumer = new Consumer(
      channel,
      workQueue.name,
      onMessage,
      (tag) => this.cancelled(tag, deliver),
      consumerArgs,
    );
    this.lost = this.watch();
  }

  get unsettled(): readonly ConsumeMessage[] {
    return this.acker.unsettled;
  }

  /**
   * The broker cancelled consumer `tag`. On a 4.3 quorum queue that is its consumer timeout, which
   * took back the tasks it held (consumer-timeout.ts): told at once (a task that ends meanwhile is
   * known when it comes back), then another consumer takes its place, unless the queue went (a
   * deletion cancels too). Elsewhere the worker hears of it.
   */
  private cancelled(tag: string, deliver: Deliver): void {
    const why = cancelledForTimeout(this.broker, this.workQueue.name, this.workQueue.type);
    if (!why) return deliver(this, null);
    if (!this.open) return;
    this.onTimeout?.(
      why,
      this.acker.unsettled.filter((msg) => msg.fields.consumerTag === tag),
    );
    void queueStillThere(this.broker, this.workQueue.name)
      .catch(() => false)
      .then((there) => (there ? this.consumer.renew() : deliver(this, null)));
  }

  /** A quorum queue's consumer is replaced to change its prefetch, and so can hold any reserve. */
  get reserveLimit(): number {
    return this.workQueue.type === "quorum" ? RESERVE_LIMIT_REPLACED : 1;
  }

  /**
   * Declares the queue (one that exists as the other type is used as that type: see
   * declareWorkQueue), sets the prefetch and consumes: a session already receiving tasks. The
   * broker answers the whole of it within ANSWER_TIMEOUT_MS, or the connection is taken for gone.
   */
  static async open(
    broker: Broker,
    queue: string,
    prefetch: Prefetch,
    concurrency: number,
    queueType: QueueType,
    deliver: Deliver,
    onWorked?: () => void,
    taskBoundMs?: number,
  ): Promise<Session> {
    return whileUp(
      broker,
      (async () => {
        const found = await declareWorkQueue(broker, queue, queueType);
        const channel = quiet(await broker.model.createChannel());
        // auto on a classic queue: the consumer's own limit holds one in reserve (concurrency + 1,
        // fixed once it consumes); a channel-wide limit of `concurrency` on top takes the reserve
        // away while tasks are long (see setPrefetch). A quorum queue refuses a consumer on a
        // channel with a channel-wide limit: there auto starts at `concurrency` and replaces the
        // consumer to change it.
        const global = prefetch === "auto" && found.type === "classic";
        const own = prefetch === "auto" ? concurrency + (global ? 1 : 0) : prefetch;
        // In this order: a per-consumer basic.qos after the global one reset the global one to 0 (3.10.8).
        await channel.prefetch(own);
        if (global) await channel.prefetch(concurrency, true);
        // Tasks that end within taskBoundMs: the broker's consumer timeout set above it, where it takes one per consumer.
        const held = mostHeld(prefetch, concurrency, found.type === "quorum" ? RESERVE_LIMIT_REPLACED : 1);
        const s = new Session(
          broker,
          channel,
          own,
          found,
          deliver,
          onWorked,
          consumerArguments(broker, found.type, taskBoundMs, held, concurrency),
        );
        await s.consumer.start();
        return s;
      })(),
      { ms: ANSWER_TIMEOUT_MS, what: `opening a consumer on '${queue}'` },
    );
  }

  /**
   * The broker closing the channel says why first ('error', then 'close'); a connection going away
   * closes its channels without a word, and says why on the connection itself.
   */
  private watch(): Promise<Error> {
    let refusal: Error | undefined;
    this.channel.on("error", (err: Error) => {
      const text = `the broker closed the consuming channel: ${err.message}`;
      refusal =
        consumerTimeoutIn(text, raiseHint(this.broker, this.workQueue.type, this.workQueue.name)) ?? new Error(text);
    });
    return Promise.race([
      this.broker.lost,
      new Promise<Error>((resolve) =>
        this.channel.on("close", () => {
          if (this.closing) return;
          this.open = false; // closed now: an ack written to the socket would make the broker drop the connection
          if (refusal) resolve(refusal);
        }),
      ),
    ]).then((err) => {
      this.open = false;
      return err;
    });
  }

  ack(msg: ConsumeMessage, batch: boolean): void {
    this.acker.ack(msg, batch);
    if (!this.worked) {
      this.worked = true;
      this.onWorked?.();
    }
  }

  requeue(msg: ConsumeMessage): void {
    this.acker.requeue(msg);
  }

  /**
   * A quorum queue: a new consumer with `count` in the old one's place (consumer.ts).
   *
   * A classic queue: RabbitMQ lets only the channel-wide limit (basic.qos global) change under a live consumer,
   * and a channel-wide limit costs the broker a round of coordination between queue and channel
   * for every delivery ("slow on a single machine", its docs): `--prefetch auto` held one in
   * reserve at 0.85x the tasks/s of a plain prefetch 2 (zero-work bench, 4 workers). So the
   * consumer's own limit (set at consume) is the reserve, and the channel-wide one is there only
   * to take it away: lifted (0, no limit) at or above the consumer's own, `count` below it.
   */
  setPrefetch(count: number): void {
    if (!this.open) return;
    if (this.workQueue.type === "quorum") return this.consumer.replace(count);
    this.channel.prefetch(count >= this.ownPrefetch ? 0 : count, true).catch(() => {});
  }

  /** Bounded: a broker that stopped answering cannot hold a stop past ANSWER_TIMEOUT_MS (heartbeats off included). */
  async cancel(): Promise<void> {
    if (!this.open) return;
    this.acker.queueBehind();
    await settledWithin(this.consumer.cancel(), ANSWER_TIMEOUT_MS);
  }

  redact(text: string): string {
    return redact(text, this.broker.address);
  }

  /**
   * Closes the channel (behind the acks written before it), then the connection; a broker that
   * never answers holds neither past CLOSE_TIMEOUT_MS.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.acker.flush();
    this.open = false;
    await settledWithin(this.channel.close(), CLOSE_TIMEOUT_MS);
    await this.broker.close();
  }
}
