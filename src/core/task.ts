import type { ConsumeMessage, MessageProperties } from "amqplib";
import {
  ACQUIRED_COUNT_HEADER,
  ATTEMPT_HEADER,
  DEFERRALS_HEADER,
  DELIVERY_COUNT_HEADER,
  REDELIVERIES_HEADER,
  headerNumber,
} from "./headers.ts";

/** One delivery of a task, as handlers see it. */
export interface Task {
  readonly body: Buffer;
  readonly queue: string;
  readonly messageId: string | undefined;
  /** It may have run before: the broker redelivered it, or it is the copy taskq made of a redelivery. */
  readonly redelivered: boolean;
  /** 1 for the first delivery; counts earlier failed tries and redeliveries. */
  readonly attempt: number;
  /**
   * Times it came back from a worker that died (or lost its connection) holding it, since its last attempt ended; this
   * delivery included.
   */
  readonly redeliveries: number;
  /** Times it answered "not now" (exit 75) so far: those spend no attempt, but are bounded. */
  readonly deferrals: number;
  readonly headers: Record<string, unknown>;
  readonly properties: MessageProperties;
  /**
   * The body parsed as JSON (UTF-8), typed as the caller says (not checked). A body that is not
   * JSON throws a {@link NotJsonError}: a library worker dead-letters the task at once, unretried.
   */
  json<T = unknown>(): T;
}

/** A body that is not JSON: retrying cannot mend it, so the worker dead-letters it at once. */
export class NotJsonError extends Error {
  override readonly name = "NotJsonError";
  constructor(cause: unknown) {
    super(`body is not JSON: ${(cause as Error)?.message ?? cause}`);
  }
}

/** What a handler made of a task. */
export type Outcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly exitCode?: number | null;
      readonly signal?: string | null;
      /**
       * What explains the failure: a command's last stderr bytes, or a library handler's detail (a stack). Carried by
       * its retry and dead copies.
       */
      readonly stderr?: string;
    };

export type Handler = (task: Task, signal: AbortSignal) => Promise<Outcome>;

/** A task as delivered: a class, so `json()` lives once on its prototype, not as a closure per task. */
class Delivery implements Task {
  readonly body: Buffer;
  readonly messageId: string | undefined;
  readonly redelivered: boolean;
  readonly attempt: number;
  readonly redeliveries: number;
  readonly deferrals: number;
  readonly headers: Record<string, unknown>;
  readonly properties: MessageProperties;

  constructor(
    readonly queue: string,
    msg: ConsumeMessage,
  ) {
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const base = toCount(headers[ATTEMPT_HEADER]) ?? 1;
    const returns = returnsOf(msg);
    // Counted by taskq on the copy that replaced a redelivery (failures/redeliveries.ts).
    const counted = toCount(headers[REDELIVERIES_HEADER]) ?? 0;
    this.body = msg.content;
    this.messageId = msg.properties.messageId as string | undefined;
    this.redelivered = msg.fields.redelivered || counted > 0;
    this.attempt = base + returns;
    this.redeliveries = counted + returns;
    this.deferrals = toCount(headers[DEFERRALS_HEADER]) ?? 0;
    this.headers = headers;
    this.properties = msg.properties;
  }

  json<T = unknown>(): T {
    try {
      return JSON.parse(this.body.toString("utf8")) as T;
    } catch (err) {
      throw new NotJsonError(err);
    }
  }
}

/**
 * Times this message came back from a worker that held it, as far as the broker tells. A classic
 * queue says only "delivered before" (one). A quorum queue counts its returns in `x-delivery-count`:
 * on RabbitMQ 3.10 and 4.0 every return, a consumer's cancel's included (which taskq avoids:
 * worker/consumer.ts); from
 * 4.3 only failed deliveries (a lost consumer), the others in `x-acquired-count`, whose presence
 * says so (a switch's return, a requeue: none here). Shown: test/e2e/quorum.test.ts,
 * test/e2e/switch-returns.test.ts, test/e2e/redeliveries.test.ts.
 */
export function returnsOf(msg: ConsumeMessage): number {
  const headers = msg.properties.headers as Record<string, unknown> | undefined;
  const deliveries = toCount(headers?.[DELIVERY_COUNT_HEADER]);
  if (deliveries !== undefined) return deliveries;
  if (headers?.[ACQUIRED_COUNT_HEADER] !== undefined) return 0;
  return msg.fields.redelivered ? 1 : 0;
}

export function taskFromMessage(queue: string, msg: ConsumeMessage): Task {
  return new Delivery(queue, msg);
}

/** A count in a header: a whole number, not negative. */
function toCount(value: unknown): number | undefined {
  const n = headerNumber(value);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}
