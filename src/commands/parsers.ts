import { InvalidArgumentError } from "@commander-js/extra-typings";
import { MAX_HEARTBEAT_S } from "../core/broker/liveness.ts";
import type { Prefetch } from "../core/worker/auto-prefetch.ts";
import { TaskqError } from "../errors.ts";
import { type QueueType, queueNameProblem } from "../core/topology/names.ts";
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
 * `-q, --queue` for every command (set in program.ts, so every plan gets a checked name): the one
 * queue-name rule (core/topology/names.ts queueNameProblem), shared with the library's options.
 */
export function queueName(text: string): string {
  const problem = queueNameProblem(text, "--queue");
  if (problem !== undefined) throw new InvalidArgumentError(problem);
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
