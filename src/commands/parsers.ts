import { InvalidArgumentError } from "@commander-js/extra-typings";
import { MAX_HEARTBEAT_S } from "../core/broker/liveness.ts";
import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import { TaskqError } from "../errors.ts";
import type { QueueType } from "../core/topology/names.ts";
import { parseDuration } from "../util/duration.ts";

/** A commander argument parser for whole numbers in [min, max]. */
export function intInRange(min: number, max = 1_000_000_000) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected a whole number, got '${text}'.`);
    const value = Number(text);
    if (value < min || value > max) throw new InvalidArgumentError(`must be from ${min} to ${max}, got ${value}.`);
    return value;
  };
}

/** `--prefetch`: a whole number from 1 to 65535, or `auto`. */
export function prefetch(text: string): Prefetch {
  return text.trim() === "auto" ? "auto" : intInRange(1, 65535)(text);
}

/**
 * Longest `-q` name: AMQP allows 255 bytes, and the longest name taskq adds to it is a retry or
 * delay queue's (`.retry.<ms>`, `.delay.<ms>`: up to 17 bytes). Past it a failed task's retry
 * copy is refused on every try (the task comes back and runs again, for ever).
 */
export const MAX_QUEUE_NAME_BYTES = 255 - ".delay.4294967295".length;

/**
 * The one queue-name rule, a commander argument parser for every command's `-q, --queue` (set in
 * program.ts, so every plan gets a checked name): 1 to MAX_QUEUE_NAME_BYTES (238) bytes, and not
 * `amq.` something, which the broker reserves (it would refuse the declare only after connecting).
 */
export function queueName(text: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes === 0 || bytes > MAX_QUEUE_NAME_BYTES)
    throw new InvalidArgumentError(
      `a queue name is 1 to ${MAX_QUEUE_NAME_BYTES} bytes long (taskq adds up to 17 for its retry, delay and dead queues), got ${bytes}.`,
    );
  if (text.startsWith("amq."))
    throw new InvalidArgumentError("names starting with 'amq.' are reserved by the broker; use another --queue.");
  return text;
}

/** A commander argument parser for `--queue-type`. */
export function queueType(text: string): QueueType {
  if (text === "classic" || text === "quorum") return text;
  throw new InvalidArgumentError(`expected classic or quorum, got '${text}'.`);
}

/** A commander argument parser for durations (`500ms`, `2s`). */
export function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    if (err instanceof TaskqError)
      throw new InvalidArgumentError(`expected a duration like 500ms, 2s or 1m, got '${text}'.`);
    throw err;
  }
}

/**
 * `--heartbeat`: seconds (a bare number, as in a URL's `?heartbeat=N`) or a duration in whole
 * seconds (`5s`, `1m`); 0 = off; at most 65535 s. Returns seconds.
 */
export function heartbeat(text: string): number {
  const ms = /^\s*\d+\s*$/.test(text) ? Number(text) * 1000 : duration(text);
  if (ms % 1000 !== 0)
    throw new InvalidArgumentError(`the AMQP heartbeat is whole seconds (e.g. 5s, 10s, or 0 for off), got '${text}'.`);
  if (ms / 1000 > MAX_HEARTBEAT_S)
    throw new InvalidArgumentError(`must be at most ${MAX_HEARTBEAT_S}s, got '${text}'.`);
  return ms / 1000;
}
