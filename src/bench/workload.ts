import { usageError } from "../errors.ts";
import { parseDuration } from "../util/duration.ts";

/** How long tasks take, as given to `--work`. */
export type Profile =
  | { kind: "zero"; text: string }
  | { kind: "fixed"; text: string; ms: number }
  | { kind: "exp"; text: string; meanMs: number }
  | { kind: "mix"; text: string; parts: Array<{ share: number; ms: number }> }
  | { kind: "cycle"; text: string; steps: number[] };

/**
 * Parses `0`, `5ms`, `exp:5ms`, `mix:90%5ms,10%50ms`, or `cycle:50ms,5ms,5ms,5ms`
 * (durations repeated in order: the tutorial's heavy/light case, where
 * round-robin without fair dispatch keeps handing the heavy ones to the same worker).
 */
export function parseProfile(text: string): Profile {
  const bad = (why: string) =>
    usageError(`--work '${text}': ${why} (expected 0, 5ms, exp:5ms, mix:90%5ms,10%50ms or cycle:50ms,5ms)`);
  const t = text.trim();
  if (t === "0" || t === "0ms") return { kind: "zero", text: t };
  if (t.startsWith("exp:")) {
    const meanMs = durationOf(t.slice(4), bad);
    if (meanMs <= 0) throw bad("the mean must be above 0");
    return { kind: "exp", text: t, meanMs };
  }
  if (t.startsWith("cycle:")) {
    const steps = t
      .slice(6)
      .split(",")
      .map((part) => durationOf(part.trim(), bad));
    return { kind: "cycle", text: t, steps };
  }
  if (t.startsWith("mix:")) {
    const parts = t
      .slice(4)
      .split(",")
      .map((part) => {
        const m = /^\s*(\d+(?:\.\d+)?)%\s*(.+)$/.exec(part);
        if (!m) throw bad(`'${part}' is not SHARE%DURATION`);
        return { share: Number(m[1]) / 100, ms: durationOf(m[2] ?? "", bad) };
      });
    const total = parts.reduce((s, p) => s + p.share, 0);
    if (Math.abs(total - 1) > 1e-9) throw bad(`the shares add up to ${Math.round(total * 1000) / 10}%, not 100%`);
    return { kind: "mix", text: t, parts };
  }
  const ms = durationOf(t, bad);
  return ms === 0 ? { kind: "zero", text: t } : { kind: "fixed", text: t, ms };
}

function durationOf(text: string, bad: (why: string) => Error): number {
  try {
    return parseDuration(text);
  } catch {
    throw bad(`'${text}' is not a duration`);
  }
}

/** mulberry32: a small seeded generator, so `--seed` reproduces a workload. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole milliseconds of work for each of `count` tasks. */
export function taskDurations(profile: Profile, count: number, seed: number): number[] {
  const random = seededRandom(seed);
  let step = 0;
  const one = (): number => {
    switch (profile.kind) {
      case "zero":
        return 0;
      case "fixed":
        return profile.ms;
      case "exp":
        return Math.round(-Math.log(1 - random()) * profile.meanMs);
      case "cycle":
        return profile.steps[step++ % profile.steps.length] ?? 0;
      case "mix": {
        let r = random();
        for (const part of profile.parts) {
          if (r < part.share) return part.ms;
          r -= part.share;
        }
        return profile.parts[profile.parts.length - 1]?.ms ?? 0;
      }
    }
  };
  return Array.from({ length: count }, one);
}

/** A task body the worker's simulate handler understands: one '.' per millisecond. */
export const taskBody = (index: number, ms: number): Buffer => Buffer.from(`task ${index} ${".".repeat(ms)}`);
