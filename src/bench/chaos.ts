import { usageError } from "../errors.ts";
import { durationText, parseDuration } from "../util/duration.ts";
import type { NodeControl } from "./node-control.ts";

/** What `--chaos` can do, every so often, during a round. */
export type ChaosKind = "kill-worker" | "kill-node" | "freeze-node";

export interface ChaosSpec {
  kind: ChaosKind;
  /** Time between two faults of this kind. */
  everyMs: number;
  /** freeze-node: how long each node stays frozen (FREEZE_HOLD_MS from `--chaos`; shorter in tests). */
  holdMs?: number;
}

/** A round's chaos: the faults to inject, and what the sender needs to outlive them. */
export interface RoundChaos {
  specs: ChaosSpec[];
  /** `--chaos` as given, for the report. */
  text: string;
  /** For kill-node and freeze-node. */
  nodes?: NodeControl;
  /** How long the sender keeps looking for a broker after losing one (it fails over to the other URLs). */
  reconnectTimeoutMs: number;
  /** Which worker or node dies next. */
  random: () => number;
  /** The sender's reconnect news, one line each. */
  say?: (line: string) => void;
}

const KINDS: readonly ChaosKind[] = ["kill-worker", "kill-node", "freeze-node"];

/** The kinds that act on the cluster's nodes through `--node-control`. */
export const NODE_KINDS: readonly ChaosKind[] = ["kill-node", "freeze-node"];

/**
 * How long freeze-node keeps a node stopped. Long enough for a worker's heartbeat to notice: amqplib
 * gives up after two silent intervals, 10-15 s at taskq's 5 s (test/e2e/amqplib-texts.test.ts). Short
 * enough that the other nodes do not: Erlang drops a peer silent for 45-75 s (net_ticktime 60 s, the
 * Erlang/OTP `kernel` docs; test/e2e/cluster-freeze.test.ts), and the cluster would stay partitioned
 * after the thaw.
 */
export const FREEZE_HOLD_MS = 20_000;

/**
 * Below this a fault would land before the last one's effect is visible (a worker still starting, a node still
 * booting).
 */
export const MIN_CHAOS_MS = 100;

/**
 * Parses `kill-worker:500ms,kill-node:10s,freeze-node:30s`: each kind at most once, each
 * interval at least MIN_CHAOS_MS.
 */
export function parseChaos(text: string): ChaosSpec[] {
  const bad = (why: string) =>
    usageError(
      `--chaos '${text}': ${why} (expected any of kill-worker:DURATION, kill-node:DURATION, freeze-node:DURATION, e.g. kill-worker:500ms)`,
    );
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
    specs.push(kind === "freeze-node" ? { kind, everyMs, holdMs: FREEZE_HOLD_MS } : { kind, everyMs });
  }
  return specs;
}

/** The specs as `--chaos` takes them, for the report. */
export const chaosText = (specs: readonly ChaosSpec[]): string =>
  specs.map((s) => `${s.kind}:${durationText(s.everyMs)}`).join(",");
