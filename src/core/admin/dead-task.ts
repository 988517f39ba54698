import type { GetMessage } from "amqplib";
import { DEAD_HEADERS, STDERR_HEADER, headerNumber } from "../headers.ts";

/** One task parked in `<queue>.dead`, with why it died (from its x-taskq-* headers). */
export interface DeadTask {
  readonly messageId: string | undefined;
  readonly body: Buffer;
  readonly reason: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly failedAt: string | undefined;
  readonly attempts: number | undefined;
  readonly host: string | undefined;
  readonly originalQueue: string | undefined;
  /** The last bytes its last attempt wrote to stderr, when the worker kept them (--stderr-tail). */
  readonly stderr: string | undefined;
  readonly headers: Record<string, unknown>;
}

/** A dead message as a DeadTask, read from its x-taskq-* headers. */
export function deadTask(msg: GetMessage): DeadTask {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  return {
    messageId: asString(msg.properties.messageId),
    body: msg.content,
    reason: asString(headers[DEAD_HEADERS.reason]),
    exitCode: nullable(headers[DEAD_HEADERS.exitCode], headerNumber),
    signal: nullable(headers[DEAD_HEADERS.signal], asString),
    failedAt: asString(headers[DEAD_HEADERS.failedAt]),
    attempts: headerNumber(headers[DEAD_HEADERS.attempts]),
    host: asString(headers[DEAD_HEADERS.host]),
    originalQueue: asString(headers[DEAD_HEADERS.queue]),
    stderr: asString(headers[STDERR_HEADER]),
    headers,
  };
}

const asString = (value: unknown): string | undefined =>
  typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : undefined;

function nullable<T>(value: unknown, parse: (v: unknown) => T | undefined): T | null | undefined {
  return value === null ? null : parse(value);
}
