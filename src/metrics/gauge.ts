import { Scalar } from "./scalar.ts";
import type { Labels } from "./series.ts";

/** A value that goes up and down (Prometheus `gauge`). */
export class Gauge<L extends string = never> extends Scalar<L> {
  protected readonly type = "gauge";

  set(labels: Labels<L>, value: number): void {
    this.series.get(labels).value = value;
  }

  inc(labels: Labels<L>, by = 1): void {
    this.series.get(labels).value += by;
  }

  dec(labels: Labels<L>, by = 1): void {
    this.series.get(labels).value -= by;
  }
}
