import { usageError } from "../errors.ts";
import { durationText, parseDuration } from "../util/duration.ts";

/** What `--chaos` can do, every so often, during a round. */
export type ChaosKind = "kill-worker" | "kill-node";

export interface ChaosSpec {
  kind: ChaosKind;
  /** Time between two faults of this kind. */
  everyMs: number;
}

const KINDS: readonly ChaosKind[] = ["kill-worker", "kill-node"];

/** Below this a fault would land before the last one's effect is visible (a worker still starting, a node still booting). */
export const MIN_CHAOS_MS = 100;

/**
 * Parses `kill-worker:500ms,kill-node:10s`: each kind at most once, each
 * interval at least MIN_CHAOS_MS.
 */
export function parseChaos(text: string): ChaosSpec[] {
  const bad = (why: string) => usageError(`--chaos '${text}': ${why} (expected kill-worker:DURATION and/or kill-node:DURATION, e.g. kill-worker:500ms)`);
  const specs: ChaosSpec[] = [];
  for (const part of text.split(",")) {
    const item = part.trim();
    const colon = item.indexOf(":");
    const kind = (colon < 0 ? item : item.slice(0, colon)) as ChaosKind;
    if (!KINDS.includes(kind)) throw bad(`'${kind}' is not a fault taskq can inject`);
    if (colon < 0) throw bad(`'${kind}' needs an interval, e.g. ${kind}:2s`);
    const every = item.slice(colon + 1);
    let everyMs: number;
    try {
      everyMs = parseDuration(every);
    } catch {
      throw bad(`'${every}' is not a duration`);
    }
    if (everyMs < MIN_CHAOS_MS) throw bad(`the interval must be at least ${MIN_CHAOS_MS}ms`);
    if (specs.some((s) => s.kind === kind)) throw bad(`${kind} is given twice`);
    specs.push({ kind, everyMs });
  }
  return specs;
}

/** The specs as `--chaos` takes them, for the report. */
export const chaosText = (specs: readonly ChaosSpec[]): string => specs.map((s) => `${s.kind}:${durationText(s.everyMs)}`).join(",");
