import type { Handler, Outcome } from "../core/task.ts";
import { sleepPrecisely } from "../util/clock.ts";

/** Milliseconds of simulated work a body asks for: one unit per '.', as in the tutorial. */
export function countDots(body: Buffer): number {
  let dots = 0;
  for (const byte of body) if (byte === 0x2e) dots++;
  return dots;
}

export interface SimulateOptions {
  /** Milliseconds each '.' in the body stands for (the tutorial uses 1000). */
  dotMs: number;
  /** Print the tutorial worker's lines. */
  print?: (line: string) => void;
}

/** The tutorial's worker: "[x] Received", sleep per dot, "[x] Done". */
export function simulateHandler(options: SimulateOptions): Handler {
  const work = async (ms: number, signal: AbortSignal): Promise<Outcome> => {
    await sleepPrecisely(ms, signal);
    if (signal.aborted) return { ok: false, reason: "aborted" };
    options.print?.(" [x] Done");
    return DONE;
  };
  return (task, signal) => {
    options.print?.(` [x] Received '${task.body.toString()}'`);
    const ms = countDots(task.body) * options.dotMs;
    // No work and nothing to print (the bench's zero-work tasks): done, without a sleep's promises.
    if (ms <= 0 && !options.print && !signal.aborted) return Promise.resolve(DONE);
    return work(ms, signal);
  };
}

const DONE: Outcome = Object.freeze({ ok: true });
