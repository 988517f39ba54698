import type { Handler } from "../core/task.ts";
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
  return async (task, signal) => {
    options.print?.(` [x] Received '${task.body.toString()}'`);
    await sleepPrecisely(countDots(task.body) * options.dotMs, signal);
    if (signal.aborted) return { ok: false, reason: "aborted" };
    options.print?.(" [x] Done");
    return { ok: true };
  };
}
