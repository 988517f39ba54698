import { checkNames, formatLabels } from "./format.ts";

/** Label values by label name; every metric takes exactly the names it was made with. */
export type Labels<L extends string> = { readonly [K in L]: string };

/**
 * One metric family's series, keyed by label values. Counter, Gauge and
 * Histogram keep their per-series state here.
 */
export class Series<L extends string, S> {
  private readonly byKey = new Map<string, { pairs: Array<[string, string]>; state: S }>();

  constructor(
    readonly name: string,
    readonly labelNames: readonly L[],
    private readonly fresh: () => S,
  ) {
    checkNames(name, labelNames);
  }

  /** The state of the series with these labels, created on first use. */
  get(labels: Labels<L>): S {
    const values = this.labelNames.map((n) => labels[n]);
    const extra = Object.keys(labels).filter((k) => !(this.labelNames as readonly string[]).includes(k));
    if (extra.length > 0 || values.some((v) => typeof v !== "string")) {
      throw new Error(`${this.name} takes labels [${this.labelNames.join(", ")}], got [${Object.keys(labels).join(", ")}]`);
    }
    // NUL cannot be typed in a label value, so it keeps distinct tuples distinct.
    const key = values.join("\u0000");
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = { pairs: this.labelNames.map((n, i) => [n, values[i] as string]), state: this.fresh() };
      this.byKey.set(key, entry);
    }
    return entry.state;
  }

  /** Each series in the order it first appeared, with its rendered `{...}` (plus `extra` pairs last). */
  *entries(): Generator<{ labels: (extra?: Array<[string, string]>) => string; state: S }> {
    for (const { pairs, state } of this.byKey.values()) yield { labels: (extra = []) => formatLabels([...pairs, ...extra]), state };
  }
}
