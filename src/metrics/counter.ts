import { Scalar } from "./scalar.ts";
import type { Labels } from "./series.ts";

/** A value that only goes up (Prometheus `counter`). */
export class Counter<L extends string = never> extends Scalar<L> {
  protected readonly type = "counter";

  inc(labels: Labels<L>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter cannot go down (inc by ${by})`);
    this.series.get(labels).value += by;
  }
}
