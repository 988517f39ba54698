import {
  ATTEMPT_HEADER,
  DEAD_HEADERS,
  DEATH_HEADER,
  DEFERRALS_HEADER,
  LAST_ERROR_HEADER,
  STDERR_HEADER,
} from "../headers.ts";
import { cutHead, cutTail } from "./cut-text.ts";
import { AMQPLIB_TABLE_BYTES, entryBytes, tableBytes } from "./header-bytes.ts";

/** Set on a copy that had to leave headers out to be publishable: which, and how big they were. */
export const DROPPED_HEADER = "x-taskq-dropped";

/** Most bytes of a reason (`x-taskq-reason`, `x-taskq-last-error`) a copy carries: its first ones, the cut said. */
export const MAX_REASON_BYTES = 4096;

/** Most bytes of a failure's stderr (or a library handler's detail) a copy carries: its last ones, the cut said. */
export const MAX_STDERR_BYTES = 32_768;

/** A reason kept when the task's own headers leave no room for more. */
export const SHORT_REASON_BYTES = 256;

/** Most bytes of the DROPPED_HEADER note. */
const MAX_NOTE_BYTES = 1024;

/**
 * The texts taskq writes, and how each is cut: a reason keeps its start, stderr its end (a library handler's signal is
 * any text).
 */
const TEXTS: Readonly<Record<string, "reason" | "stderr">> = {
  [LAST_ERROR_HEADER]: "reason",
  [DEAD_HEADERS.reason]: "reason",
  [DEAD_HEADERS.signal]: "reason",
  [STDERR_HEADER]: "stderr",
};

interface Budget {
  reason: number;
  /** 0: the stderr is left out. */
  stderr: number;
  /** Whether the broker's x-death history (one entry per retry queue passed) stays. */
  history: boolean;
}

const FULL: Budget = { reason: MAX_REASON_BYTES, stderr: MAX_STDERR_BYTES, history: true };
const SHORT: Budget = { reason: SHORT_REASON_BYTES, stderr: 0, history: false };

/** A copy's headers, fitted; `dropped` names the headers of the task's own publisher left out (none: undefined). */
export interface Fitted {
  headers: Record<string, unknown>;
  dropped?: string[];
}

/**
 * The invariant: every copy taskq publishes (retry, dead, hand-back, requeue) has headers that
 * amqplib can encode (tableBytes ≤ `limit`, AMQPLIB_TABLE_BYTES by default) and, refitted by the
 * copier to headerTableLimit of its connection's frame_max (copy-table.ts fitCopy), that the
 * broker takes in one frame, so its publish can only fail at the broker, never for ever in the worker. In order,
 * stopping at the first that fits:
 * 1. taskq's texts cut to MAX_REASON_BYTES and MAX_STDERR_BYTES (with the cut said): taskq's own
 *    headers then take at most ~41 KiB; a task with up to ~24 KiB of its own keeps everything;
 * 2. taskq's extras shortened: reasons to SHORT_REASON_BYTES, stderr and x-death left out, said in
 *    DROPPED_HEADER: taskq's own headers then take under 4 KiB, so a task sent by taskq's library
 *    (its own headers at most MAX_TASK_HEADERS_BYTES, task-spec.ts) keeps all of its own;
 * 3. the task's own headers (`own`: those not set by this copy) left out, largest first, until it
 *    fits, said in DROPPED_HEADER and in `dropped`: only for a task published by another client.
 * What is left after 3 is taskq's shortened headers alone (under 4 KiB with the note:
 * copy-table.test.ts): it always fits, its values being of AMQP types (a library handler's
 * Outcome is checked: library/handler.ts). Should amqplib refuse it all the same: bareHeaders.
 */
export function fitHeaders(
  headers: Record<string, unknown>,
  own: ReadonlySet<string>,
  limit = AMQPLIB_TABLE_BYTES,
): Fitted {
  const full = bounded(headers, FULL, []);
  if (tableBytes(full) <= limit) return { headers: full };
  const leftOut: Array<[string, number]> = [];
  const short = bounded(headers, SHORT, leftOut);
  const sizes = Object.entries(short).map(([key, value]) => [key, entryBytes(key, value)] as const);
  let finite = 4;
  let unencodable = 0;
  const count = (bytes: number, sign: 1 | -1) => {
    if (bytes === Infinity) unencodable += sign;
    else finite += sign * bytes;
  };
  for (const [, bytes] of sizes) count(bytes, 1);
  // An earlier copy's note goes on in this one's, and is counted twice meanwhile: an overestimate, so safe.
  const earlier = headers[DROPPED_HEADER];
  const noteBytes = () => (leftOut.length > 0 ? entryBytes(DROPPED_HEADER, note(leftOut, earlier, limit)) : 0);
  const fits = () => unencodable === 0 && finite + noteBytes() <= limit;
  const dropped: string[] = [];
  for (const [key, bytes] of sizes
    .filter(([key]) => own.has(key) && key !== DROPPED_HEADER)
    .sort((a, b) => b[1] - a[1])) {
    if (fits()) break;
    delete short[key];
    count(bytes, -1);
    leftOut.push([key, bytes]);
    if (isTheTasks(key)) dropped.push(key);
  }
  if (leftOut.length > 0) short[DROPPED_HEADER] = note(leftOut, earlier, limit);
  return dropped.length > 0 ? { headers: short, dropped } : { headers: short };
}

/** A header of the task's own publisher: not taskq's (`x-taskq-*`), not the broker's history. */
const isTheTasks = (key: string): boolean => !key.startsWith("x-taskq-") && key !== DEATH_HEADER;

/** `headers` with taskq's texts cut to `budget`; what it leaves out is added to `leftOut`. */
function bounded(
  headers: Record<string, unknown>,
  budget: Budget,
  leftOut: Array<[string, number]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers)) {
    const text = TEXTS[key];
    if ((text === "stderr" && budget.stderr === 0) || (key === DEATH_HEADER && !budget.history))
      leftOut.push([key, entryBytes(key, value)]);
    else if (text === undefined || typeof value !== "string") out[key] = value;
    else out[key] = text === "reason" ? cutHead(value, budget.reason) : cutTail(value, budget.stderr);
  }
  return out;
}

/** What was left out and why (after what an earlier note said), at most MAX_NOTE_BYTES. */
function note(
  leftOut: ReadonlyArray<[string, number]>,
  earlier: unknown,
  limit = AMQPLIB_TABLE_BYTES,
  then = "then",
): string {
  const each = leftOut
    .map(([key, bytes]) => `${key} (${bytes === Infinity ? "no AMQP type" : `${bytes.toLocaleString("en-US")} bytes`})`)
    .join(", ");
  const lead =
    typeof earlier === "string"
      ? `${earlier}; ${then}`
      : `left out to fit the ${limit.toLocaleString("en-US")} bytes of headers ${limit < AMQPLIB_TABLE_BYTES ? "the connection's frame_max leaves" : "amqplib can send"}`;
  return cutHead(`${lead}: ${each}`, MAX_NOTE_BYTES);
}

/** The headers a bare copy keeps: taskq's, each a count or a short text. */
const BARE = new Set([ATTEMPT_HEADER, DEFERRALS_HEADER, LAST_ERROR_HEADER, ...Object.values(DEAD_HEADERS)]);

/**
 * The last resort, should amqplib refuse headers fitHeaders passed (an amqplib that encodes
 * otherwise than header-bytes.ts knows): taskq's own headers alone (BARE: at most 9, each a finite
 * number, a boolean, null or a text of at most SHORT_REASON_BYTES: under 4 KiB with the note),
 * everything else left out and said.
 */
export function bareHeaders(headers: Record<string, unknown>): Fitted {
  const leftOut: Array<[string, number]> = [];
  const bare: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (BARE.has(key) && (value === null || typeof value === "boolean" || Number.isFinite(value))) bare[key] = value;
    else if (BARE.has(key) && typeof value === "string") bare[key] = cutHead(value, SHORT_REASON_BYTES);
    else if (key !== DROPPED_HEADER) leftOut.push([key, entryBytes(key, value)]);
  }
  const dropped = leftOut.map(([key]) => key).filter(isTheTasks);
  if (leftOut.length > 0)
    bare[DROPPED_HEADER] = note(
      leftOut,
      headers[DROPPED_HEADER],
      AMQPLIB_TABLE_BYTES,
      "then, amqplib refusing the rest",
    );
  return dropped.length > 0 ? { headers: bare, dropped } : { headers: bare };
}

/**
 * Headers a copy already carries, fitted again to a smaller `limit` (the copier's frame_max):
 * taskq's counters and reasons (BARE) stay, anything else may give way as in fitHeaders.
 */
export const refitHeaders = (headers: Record<string, unknown>, limit: number): Fitted =>
  fitHeaders(headers, new Set(Object.keys(headers).filter((key) => !BARE.has(key))), limit);
