import { formatNumber, header } from "./format.ts";
import { type Labels, Series } from "./series.ts";

/** Task durations in seconds: 5 ms to one minute (Prometheus' defaults, plus 30 s and 60 s). */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface State {
  /** Observations per bucket, not cumulative; the last slot is the +Inf overflow. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Observations counted into buckets by upper bound (Prometheus `histogram`).
 * A value equal to a bound falls in that bound's bucket (`le` is inclusive);
 * rendered buckets are cumulative and end with `le="+Inf"`, which equals `_count`.
 */
export class Histogram<L extends string = never> {
  readonly buckets: readonly number[];
  private readonly series: Series<L, State>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = DURATION_BUCKETS,
  ) {
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number)))) {
      throw new Error(`${name}: buckets must be finite and strictly increasing, got [${buckets.join(", ")}]`);
    }
    if ((labelNames as readonly string[]).includes("le")) throw new Error(`${name}: 'le' is reserved for buckets`);
    this.buckets = [...buckets];
    this.series = new Series(name, labelNames, () => ({ counts: new Array<number>(buckets.length + 1).fill(0), sum: 0, count: 0 }));
    if (labelNames.length === 0) this.init({} as Labels<L>);
  }

  /** Makes the series appear (all buckets 0) before the first observation. */
  init(labels: Labels<L>): void {
    this.series.get(labels);
  }

  /** Index of the first bucket whose bound is >= value; `buckets.length` for the +Inf overflow. */
  bucketIndex(value: number): number {
    const i = this.buckets.findIndex((bound) => value <= bound);
    return i === -1 ? this.buckets.length : i;
  }

  observe(labels: Labels<L>, value: number): void {
    if (Number.isNaN(value)) throw new Error(`${this.name}: cannot observe NaN`);
    const state = this.series.get(labels);
    state.counts[this.bucketIndex(value)]! += 1;
    state.sum += value;
    state.count += 1;
  }

  /** Cumulative bucket counts, one per bound and the +Inf one last. */
  cumulative(labels: Labels<L>): number[] {
    let running = 0;
    return this.series.get(labels).counts.map((n) => (running += n));
  }

  render(): string {
    let text = header(this.name, this.help, "histogram");
    const bounds = [...this.buckets.map(formatNumber), "+Inf"];
    for (const { labels, state } of this.series.entries()) {
      let running = 0;
      state.counts.forEach((n, i) => {
        running += n;
        text += `${this.name}_bucket${labels([["le", bounds[i] as string]])} ${running}\n`;
      });
      text += `${this.name}_sum${labels()} ${formatNumber(state.sum)}\n`;
      text += `${this.name}_count${labels()} ${state.count}\n`;
    }
    return text;
  }
}
