import type { Unconfirmed } from "./publisher.ts";

const idOf = (task: Unconfirmed) => task.properties.messageId;

/**
 * What `send` publishes again on the next connection: the tasks the lost one
 * had not confirmed, plus the one in hand (being published when it dropped).
 * A task is known by its message id: bodies may repeat (the library takes any
 * buffers), and a task is carried once however many connections drop.
 */
export class ResendSet {
  resent = 0;
  private carried: Unconfirmed[] = [];
  private held: Unconfirmed | undefined;

  /** The task being published now (undefined once the channel took it). */
  inHand(task: Unconfirmed | undefined): undefined {
    this.held = task;
    return undefined;
  }

  /** The connection dropped with `pending` unconfirmed: they go first on the next one. */
  carry(pending: Unconfirmed[]): void {
    const ids = new Set(pending.map(idOf));
    const stray = this.held;
    this.carried = [...pending, ...this.carried.filter((t) => !ids.has(idOf(t)))];
    if (stray && !this.carried.some((t) => idOf(t) === idOf(stray))) this.carried.push(stray);
    this.held = undefined;
  }

  /** The next task to publish again, taken out of the set (it is in hand until published). */
  next(): Unconfirmed | undefined {
    const task = this.carried.shift();
    if (task) this.resent++;
    return task;
  }

  get size(): number {
    return this.carried.length + (this.held ? 1 : 0);
  }
}
