import type { ConsumeMessage, MessageProperties } from "amqplib";
import { ATTEMPT_HEADER, DEFERRALS_HEADER, DELIVERY_COUNT_HEADER, headerNumber } from "./headers.ts";

/** One delivery of a task, as handlers see it. */
export interface Task {
  readonly body: Buffer;
  readonly queue: string;
  readonly messageId: string | undefined;
  readonly redelivered: boolean;
  /** 1 for the first delivery; counts earlier failed tries and redeliveries. */
  readonly attempt: number;
  /** Times it answered "not now" (exit 75) so far: those spend no attempt, but are bounded. */
  readonly deferrals: number;
  readonly headers: Record<string, unknown>;
  readonly properties: MessageProperties;
}

/** What a handler made of a task. */
export type Outcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly exitCode?: number | null;
      readonly signal?: string | null;
      /** What explains the failure: a command's last stderr bytes, or a library handler's detail (a stack). Carried by its retry and dead copies. */
      readonly stderr?: string;
    };

export type Handler = (task: Task, signal: AbortSignal) => Promise<Outcome>;

export function taskFromMessage(queue: string, msg: ConsumeMessage): Task {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const base = toCount(headers[ATTEMPT_HEADER]) ?? 1;
  // Quorum queues count deliveries; classic queues only say "delivered before".
  const deliveries = toCount(headers[DELIVERY_COUNT_HEADER]);
  const attempt = deliveries !== undefined ? base + deliveries : base + (msg.fields.redelivered ? 1 : 0);
  return {
    body: msg.content,
    queue,
    messageId: msg.properties.messageId as string | undefined,
    redelivered: msg.fields.redelivered,
    attempt,
    deferrals: toCount(headers[DEFERRALS_HEADER]) ?? 0,
    headers,
    properties: msg.properties,
  };
}

/** A count in a header: a whole number, not negative. */
function toCount(value: unknown): number | undefined {
  const n = headerNumber(value);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}
