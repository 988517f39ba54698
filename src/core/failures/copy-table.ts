import type { MessageProperties } from "amqplib";
import { hostName } from "../../util/host.ts";
import type { TaskProperties } from "../publish/publisher.ts";
import { deadQueueName, retryQueueName } from "../topology/names.ts";
import {
  ACQUIRED_COUNT_HEADER,
  ATTEMPT_HEADER,
  DEAD_HEADERS,
  DEATH_HEADER,
  DEFERRALS_HEADER,
  DELIVERY_COUNT_HEADER,
  LAST_ERROR_HEADER,
  REDELIVERIES_HEADER,
  STDERR_HEADER,
} from "../headers.ts";
import type { Outcome, Task } from "../task.ts";
import { bareHeaders, fitHeaders, refitHeaders } from "./fit-headers.ts";
import { tableBytes } from "./header-bytes.ts";

// How long each text may be, and what gives way when a copy's headers would not fit the 65,536-byte table amqplib
// encodes them into (AMQPLIB_TABLE_BYTES): fit-headers.ts; under a lower frame_max the copier fits them again
// (fitCopy).
export { DROPPED_HEADER, MAX_REASON_BYTES, MAX_STDERR_BYTES } from "./fit-headers.ts";

/** Why a copy of a task is made, with what that kind needs. */
export type CopyOf =
  /** A failed task waits in `<queue>.retry.<level>` for its delay, then comes back with its next attempt. */
  | {
      kind: "retry";
      levelMs: number;
      delayMs: number;
      nextAttempt: number;
      deferrals: number;
      reason: string;
      stderr?: string;
    }
  /** A task that failed for good goes to `<queue>.dead`, saying why. */
  | { kind: "dead"; outcome: Extract<Outcome, { ok: false }> }
  /** A task delivered but never started (a stop) goes back to the end of its queue, costing no attempt. */
  | { kind: "handBack" }
  /**
   * A task that came back from a worker that died holding it goes to the end of its queue, `redeliveries` on it
   * (redeliveries.ts).
   */
  | { kind: "cameBack"; redeliveries: number }
  /** `taskq dead requeue`: a dead task goes back to its queue with a clean slate. */
  | { kind: "requeue" };

export type CopyKind = CopyOf["kind"];

/**
 * What each kind of copy removes from the task's headers; what it sets is in `setHeaders`.
 * Every copy keeps the body and the properties (message id, timestamp, content type...), drops
 * the delivery mode (the publisher's), the user id (checked against the login) and the expiry.
 */
export const REMOVED_HEADERS: Record<CopyKind, readonly string[]> = {
  // An earlier attempt's stderr never passes for this one's: set anew, or gone. An attempt that
  // ended (failed) ends the run of redeliveries too.
  retry: [DEATH_HEADER, DELIVERY_COUNT_HEADER, ACQUIRED_COUNT_HEADER, STDERR_HEADER, REDELIVERIES_HEADER],
  // The broker's count is folded into the attempt and the redeliveries set below.
  handBack: [DEATH_HEADER, DELIVERY_COUNT_HEADER, ACQUIRED_COUNT_HEADER, REDELIVERIES_HEADER],
  cameBack: [DEATH_HEADER, DELIVERY_COUNT_HEADER, ACQUIRED_COUNT_HEADER],
  dead: [DELIVERY_COUNT_HEADER, ACQUIRED_COUNT_HEADER, STDERR_HEADER, REDELIVERIES_HEADER],
  requeue: [
    DEATH_HEADER,
    DELIVERY_COUNT_HEADER,
    ACQUIRED_COUNT_HEADER,
    ATTEMPT_HEADER,
    LAST_ERROR_HEADER,
    DEFERRALS_HEADER,
    STDERR_HEADER,
    REDELIVERIES_HEADER,
    ...Object.values(DEAD_HEADERS),
  ],
};

function setHeaders(of: CopyOf, source: CopySource): Record<string, unknown> {
  const { attempt, queue } = source;
  switch (of.kind) {
    case "retry":
      return {
        [ATTEMPT_HEADER]: of.nextAttempt,
        [LAST_ERROR_HEADER]: of.reason,
        ...(of.deferrals > 0 ? { [DEFERRALS_HEADER]: of.deferrals } : {}),
        ...stderrHeader(of.stderr),
      };
    case "handBack":
      return { [ATTEMPT_HEADER]: attempt, ...redeliveriesHeader(source.redeliveries) };
    case "cameBack":
      return { [ATTEMPT_HEADER]: attempt, [REDELIVERIES_HEADER]: of.redeliveries };
    case "dead":
      return {
        ...redeliveriesHeader(source.redeliveries),
        [DEAD_HEADERS.reason]: of.outcome.reason,
        [DEAD_HEADERS.exitCode]: of.outcome.exitCode ?? null,
        [DEAD_HEADERS.signal]: of.outcome.signal ?? null,
        [DEAD_HEADERS.failedAt]: new Date().toISOString(),
        [DEAD_HEADERS.host]: hostName(),
        [DEAD_HEADERS.queue]: queue,
        [DEAD_HEADERS.attempts]: attempt,
        ...stderrHeader(of.outcome.stderr),
      };
    case "requeue":
      return {};
  }
}

/** A count kept only while there is one: a task that never came back carries no header for it. */
function redeliveriesHeader(redeliveries: number | undefined): Record<string, number> {
  return redeliveries === undefined || redeliveries === 0 ? {} : { [REDELIVERIES_HEADER]: redeliveries };
}

/** Uncut: fitHeaders cuts every text taskq writes, this copy's and those an earlier copy left. */
function stderrHeader(stderr: string | undefined): Record<string, string> {
  return stderr === undefined || stderr === "" ? {} : { [STDERR_HEADER]: stderr };
}

/** One copy, ready to publish (persistent, confirmed); its headers always ones amqplib can encode (fit-headers.ts). */
export interface Copy {
  kind: CopyKind;
  queue: string;
  body: Buffer;
  properties: TaskProperties;
  /** The task's own headers left out so the copy could be sent (said in its DROPPED_HEADER); unset when none were. */
  dropped?: readonly string[];
}

/** The source of a copy: a task in hand, or a dead message (then `queue` is where it goes back). */
export type CopySource = Pick<Task, "body" | "queue" | "attempt"> &
  Partial<Pick<Task, "redeliveries">> & { properties: MessageProperties };

/** Where each kind of copy goes. */
function destination(of: CopyOf, queue: string): string {
  if (of.kind === "retry") return retryQueueName(queue, of.levelMs);
  if (of.kind === "dead") return deadQueueName(queue);
  return queue;
}

/** The one place copies of tasks are made: same body, properties kept, headers by the table above. */
export function makeCopy(source: CopySource, of: CopyOf): Copy {
  const { headers, deliveryMode: _d, userId: _u, expiration: _e, ...kept } = source.properties;
  const properties: TaskProperties = {};
  for (const [key, value] of Object.entries(kept))
    if (value !== undefined && value !== null) (properties as Record<string, unknown>)[key] = value;
  const removed = new Set(REMOVED_HEADERS[of.kind]);
  const left = Object.entries((headers ?? {}) as Record<string, unknown>).filter(([key]) => !removed.has(key));
  const set = setHeaders(of, source);
  const own = new Set(left.map(([key]) => key).filter((key) => !(key in set)));
  const fitted = fitHeaders({ ...Object.fromEntries(left), ...set }, own);
  if (Object.keys(fitted.headers).length > 0) properties.headers = fitted.headers;
  if (of.kind === "retry") properties.expiration = String(of.delayMs);
  const copy: Copy = { kind: of.kind, queue: destination(of, source.queue), body: source.body, properties };
  if (fitted.dropped) copy.dropped = fitted.dropped;
  return copy;
}

/** `copy` with taskq's own headers alone (fit-headers.ts bareHeaders): for a copy amqplib refused to encode. */
export function bareCopy(copy: Copy): Copy {
  const fitted = bareHeaders((copy.properties.headers ?? {}) as Record<string, unknown>);
  const bare: Copy = { ...copy, properties: { ...copy.properties, headers: fitted.headers } };
  if (fitted.dropped) bare.dropped = [...(copy.dropped ?? []), ...fitted.dropped];
  return bare;
}

/**
 * `copy` with headers of at most `limit` bytes (header-bytes.ts headerTableLimit of the connection
 * it goes on): itself when they fit, else refitted, what gave way said in its DROPPED_HEADER and,
 * for the task's own headers, in `dropped`.
 */
export function fitCopy(copy: Copy, limit: number): Copy {
  const headers = (copy.properties.headers ?? {}) as Record<string, unknown>;
  if (tableBytes(headers) <= limit) return copy;
  const fitted = refitHeaders(headers, limit);
  const fit: Copy = { ...copy, properties: { ...copy.properties, headers: fitted.headers } };
  if (fitted.dropped) fit.dropped = [...(copy.dropped ?? []), ...fitted.dropped];
  return fit;
}
