/** Anything that renders its own metric family in the text format. */
export interface Metric {
  readonly name: string;
  render(): string;
}

/** The metrics one endpoint serves, rendered in the order they were added. */
export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join("");
  }
}
