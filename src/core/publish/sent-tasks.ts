/**
 * Tasks published and not yet confirmed, by publish sequence number (1, 2, ...): a ring indexed
 * by the number, grown when the span from the oldest kept to the newest fills it. Confirms come
 * mostly in order (not always: RabbitMQ's "Consumer Acknowledgements and Publisher Confirms"
 * guide; one answered out of order is taken all the same), so this does a Map's work without
 * hashing every task.
 */
export class SentTasks<T> {
  private ring: Array<T | undefined> = new Array(1024).fill(undefined);
  /** Sequence number of the oldest task kept (or `next` when none). */
  private oldest = 1;
  private next = 1;

  /** `seq` is the next sequence number: one more than the last added. */
  add(seq: number, item: T): void {
    if (seq - this.oldest >= this.ring.length) this.grow();
    this.ring[seq % this.ring.length] = item;
    this.next = seq + 1;
  }

  get(seq: number): T | undefined {
    return seq >= this.oldest && seq < this.next ? this.ring[seq % this.ring.length] : undefined;
  }

  delete(seq: number): void {
    if (seq < this.oldest || seq >= this.next) return;
    const size = this.ring.length;
    this.ring[seq % size] = undefined;
    while (this.oldest < this.next && this.ring[this.oldest % size] === undefined) this.oldest++;
  }

  /** Those still kept, oldest first. */
  values(): T[] {
    const out: T[] = [];
    for (let seq = this.oldest; seq < this.next; seq++) {
      const item = this.ring[seq % this.ring.length];
      if (item !== undefined) out.push(item);
    }
    return out;
  }

  private grow(): void {
    const bigger: Array<T | undefined> = new Array(this.ring.length * 2).fill(undefined);
    for (let seq = this.oldest; seq < this.next; seq++) bigger[seq % bigger.length] = this.ring[seq % this.ring.length];
    this.ring = bigger;
  }
}
