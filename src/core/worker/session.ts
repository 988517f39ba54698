import type { Channel, ConsumeMessage } from "amqplib";
import { Acker } from "./acker.ts";
import { AckHush } from "./ack-hush.ts";
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
 * Most tasks `--prefetch auto` holds in reserve: a reserve held by one worker is work another may wait for at the end
 * of a run, while more than a few only pays where refills are slow or tasks take no time. Figures: docs/performance.md,
 * "Quorum queues and --prefetch auto".
 */
export const RESERVE_LIMIT = 8;

/** What `Session.open` needs. */
export interface SessionOptions {
  queue: string;
  prefetch: Prefetch;
  concurrency: number;
  queueType: QueueType;
  deliver: Deliver;
  /** Told once, at the first ack: the connection does real work. */
  onWorked?: () => void;
  /** Every task's outcome comes within this long of its start (see ConsumeSpec). */
  taskBoundMs?: number;
}

/**
 * One connection's worth of consuming: its channel, its acks, its consumer.
 * A task's ack belongs to the session that delivered it; when the session
 * dies, its unacked tasks are the broker's to redeliver, never acked on the
 * next session (test/e2e/faults.test.ts). It never publishes (copies go out on
 * a connection of their own), so a memory or disk alarm never blocks its acks
 * (test/e2e/alarm.test.ts).
 */
export class Session implements WorkSession {
  open = true;
  readonly pending: ConsumeMessage[] = [];
  readonly lost: Promise<Error>;
  private readonly acker: Acker;
  private readonly consumer: Consumer;
  private readonly hush: AckHush;
  private closing = false;
  private worked = false;
  onTimeout?: (why: ConsumerTimedOut, taken: readonly ConsumeMessage[]) => void;

  private constructor(
    readonly broker: Broker,
    private readonly channel: Channel,
    /** The consumer's prefetch (its own, never channel-wide) as it starts. */
    prefetch: number,
    /** The queue it consumes, as declared: the type it is used as (see declareWorkQueue). */
    readonly workQueue: WorkQueue,
    deliver: Deliver,
    /** Told once, at the first ack: the connection does real work. */
    private readonly onWorked?: () => void,
    consumerArgs?: Record<string, unknown>,
  ) {
    this.acker = new Acker(channel, () => this.open);
    // A quorum queue hands back what is on its way to a consumer at its cancel (consumer.ts;
    // test/e2e/prefetch-switch.test.ts).
    this.hush = new AckHush(this.acker, workQueue.type === "quorum");
    const onMessage = (msg: ConsumeMessage) => {
      this.acker.track(msg);
      this.hush.delivered(msg);
      deliver(this, msg);
    };
    this.consumer = new Consumer(
      channel,
      workQueue.name,
      prefetch,
      onMessage,
      (tag) => this.cancelled(tag, deliver),
      this.hush,
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
    if (!why) {
      deliver(this, null);
      return;
    }
    if (!this.open) return;
    this.onTimeout?.(
      why,
      this.acker.unsettled.filter((msg) => msg.fields.consumerTag === tag),
    );
    void queueStillThere(this.broker, this.workQueue.name)
      .catch(() => false)
      .then((there) => (there ? this.consumer.renew(tag) : deliver(this, null)));
  }

  /** The consumer is replaced to change its prefetch (consumer.ts), and so can hold any reserve. */
  get reserveLimit(): number {
    return RESERVE_LIMIT;
  }

  /**
   * A classic queue refills in one steady round trip; a quorum queue's refill varies with its leader's load
   * (AutoPrefetch covers one round trip, the shortest recent wait, or two slow refills, the 90th percentile).
   */
  get steadyRefills(): boolean {
    return this.workQueue.type !== "quorum";
  }

  /**
   * Declares the queue (one that exists as the other type is used as that type: see
   * declareWorkQueue), sets the prefetch and consumes: a session already receiving tasks. The
   * broker answers the whole of it within ANSWER_TIMEOUT_MS, or the connection is taken for gone.
   */
  static async open(broker: Broker, o: SessionOptions): Promise<Session> {
    return whileUp(
      broker,
      (async () => {
        const found = await declareWorkQueue(broker, o.queue, o.queueType);
        const channel = quiet(await broker.model.createChannel());
        // auto starts without a reserve; the worker raises it by replacing the consumer (setPrefetch).
        const prefetch = o.prefetch === "auto" ? o.concurrency : o.prefetch;
        // Tasks that end within taskBoundMs: the broker's consumer timeout set above it, where it takes one per
        // consumer.
        const held = mostHeld(o.prefetch, o.concurrency, RESERVE_LIMIT);
        const args = consumerArguments(broker, found.type, o.taskBoundMs, held, o.concurrency);
        const s = new Session(broker, channel, prefetch, found, o.deliver, o.onWorked, args);
        await s.consumer.start();
        return s;
      })(),
      { ms: ANSWER_TIMEOUT_MS, what: `opening a consumer on '${o.queue}'` },
    );
  }

  /**
   * The broker closing the channel says why first ('error', then 'close'); a connection going away
   * closes its channels without a word, and says why on the connection itself (amqplib's
   * lib/channel.js and lib/connection.js).
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
          // Closed now: an ack written to the socket would make the broker drop the connection (AMQP 0-9-1:
          // a frame on a closed channel is a connection error, 504 channel-error).
          this.open = false;
          if (refusal) resolve(refusal);
        }),
      ),
    ]).then((err) => {
      this.open = false;
      return err;
    });
  }

  ack(msg: ConsumeMessage, batch: boolean): void {
    if (!this.hush.held(msg, false, batch)) this.acker.ack(msg, batch);
    if (!this.worked) {
      this.worked = true;
      this.onWorked?.();
    }
  }

  requeue(msg: ConsumeMessage): void {
    if (!this.hush.held(msg, true, false)) this.acker.requeue(msg);
  }

  /**
   * A new consumer with `count` in the old one's place (consumer.ts): RabbitMQ fixes a consumer's own
   * prefetch when it starts, and the one limit it lets change under a live consumer, the channel-wide
   * one (basic.qos global), is a deprecated feature 4.3 denies and quorum queues refuse
   * (docs/rabbitmq-versions.md; test/e2e/deprecated-check.test.ts).
   */
  setPrefetch(count: number): void {
    if (!this.open) return;
    this.consumer.replace(count);
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
    this.hush.releaseAll();
    this.acker.flush();
    this.open = false;
    await settledWithin(this.channel.close(), CLOSE_TIMEOUT_MS);
    await this.broker.close();
  }
}
