import { formatNumber, header } from "./format.ts";
import { type Labels, Series } from "./series.ts";

/** A value that only goes up (Prometheus `counter`). */
export class Counter<L extends string = never> {
  private readonly series: Series<L, { value: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly L[] = [],
  ) {
    this.series = new Series(name, labelNames, () => ({ value: 0 }));
    if (labelNames.length === 0) this.init({} as Labels<L>);
  }

  /** Makes the series appear at 0 before anything happens to it. */
  init(labels: Labels<L>): void {
    this.series.get(labels);
  }

  inc(labels: Labels<L>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter cannot go down (inc by ${by})`);
    this.series.get(labels).value += by;
  }

  value(labels: Labels<L>): number {
    return this.series.get(labels).value;
  }

  render(): string {
    let text = header(this.name, this.help, "counter");
    for (const { labels, state } of this.series.entries()) text += `${this.name}${labels()} ${formatNumber(state.value)}\n`;
    return text;
  }
}
