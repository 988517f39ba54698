import type { ConfirmChannel, Options } from "amqplib";
import { TaskqError } from "../errors.ts";
import type { Broker } from "./connection.ts";
import { redact } from "./url.ts";

/** Properties of a task as published; everything else AMQP allows passes through. */
export type TaskProperties = Omit<Options.Publish, "mandatory" | "deliveryMode" | "persistent">;

export interface PublisherOptions {
  /** Most unconfirmed tasks at once; memory stays bounded by it. */
  window?: number;
  /** Delivery mode 2 (written to disk by the broker). Default true. */
  persistent?: boolean;
}

/**
 * Publishes with confirms in a bounded window. A task counts as sent only
 * once the broker confirms it; a nack, an unroutable task or a closed channel
 * fails the publisher and `flush()` reports it.
 */
export class Publisher {
  published = 0;
  confirmed = 0;
  private inflight = 0;
  private failure: TaskqError | undefined;
  private waiters: Array<() => void> = [];
  private readonly window: number;
  private readonly persistent: boolean;

  private constructor(
    private readonly broker: Broker,
    private readonly channel: ConfirmChannel,
    options: PublisherOptions,
  ) {
    this.window = Math.max(1, options.window ?? 1024);
    this.persistent = options.persistent ?? true;
    channel.on("return", (msg) => {
      this.fail(`task ${msg.properties.messageId ?? ""} was unroutable: no queue '${msg.fields.routingKey}' took it`.replace("task  ", "a task "));
    });
    channel.on("error", (err: Error) => this.fail(`the broker closed the publishing channel: ${redact(err.message, broker.address)}`));
    channel.on("close", () => {
      if (this.inflight > 0) this.fail(`the publishing channel closed with ${this.inflight} task(s) unconfirmed`);
      this.wakeAll();
    });
  }

  static async open(broker: Broker, options: PublisherOptions = {}): Promise<Publisher> {
    return new Publisher(broker, await broker.model.createConfirmChannel(), options);
  }

  /**
   * Sends one task. Returns nothing when it went out at once, or a promise to
   * await when the window is full or the socket pushes back. Not confirmed
   * yet: see `flush`.
   */
  publish(queue: string, body: Buffer, properties: TaskProperties = {}): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.inflight >= this.window) return this.publishLater(queue, body, properties);
    this.inflight++;
    this.published++;
    const ok = this.channel.sendToQueue(queue, body, { ...properties, persistent: this.persistent, mandatory: true }, this.onConfirm(properties.messageId));
    return ok ? undefined : new Promise<void>((resolve) => this.channel.once("drain", resolve));
  }

  private async publishLater(queue: string, body: Buffer, properties: TaskProperties): Promise<void> {
    while (this.inflight >= this.window && !this.failure) await this.nextConfirm();
    await this.publish(queue, body, properties);
  }

  private onConfirm(messageId: string | undefined) {
    return (err: unknown) => {
      this.inflight--;
      if (err) this.fail(`the broker did not accept task ${messageId ?? ""} (nack): ${redact(String((err as Error)?.message ?? err), this.broker.address)}`);
      else this.confirmed++;
      if (this.waiters.length > 0) this.wakeAll();
    };
  }

  /** Sends one task and waits for its confirm. */
  async publishConfirmed(queue: string, body: Buffer, properties: TaskProperties = {}): Promise<void> {
    await this.publish(queue, body, properties);
    await this.flush();
  }

  /** Waits until every task published so far is confirmed; throws the first failure. */
  async flush(): Promise<void> {
    while (this.inflight > 0 && !this.failure) await this.nextConfirm();
    if (this.failure) throw this.failure;
  }

  get unconfirmed(): number {
    return this.inflight;
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => {});
  }

  private fail(message: string): void {
    this.failure ??= new TaskqError(message);
    this.wakeAll();
  }

  private nextConfirm(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
