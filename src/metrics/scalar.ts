import { formatNumber, header } from "./format.ts";
import { type Labels, Series } from "./series.ts";

/** One number per series: what Counter and Gauge share. */
export abstract class Scalar<L extends string> {
  protected readonly series: Series<L, { value: number }>;
  protected abstract readonly type: "counter" | "gauge";

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

  value(labels: Labels<L>): number {
    return this.series.get(labels).value;
  }

  render(): string {
    let text = header(this.name, this.help, this.type);
    for (const { labels, state } of this.series.entries()) text += `${this.name}${labels()} ${formatNumber(state.value)}\n`;
    return text;
  }
}
