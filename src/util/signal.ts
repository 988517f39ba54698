/** Waiters woken all at once: `next()` resolves at the following `wake()`. */
export class Signal {
  private waiters: Array<() => void> = [];

  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
