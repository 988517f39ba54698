/** Bytes of unconfirmed bodies beyond which an adaptive window stops growing. */
export const ADAPTIVE_MAX_BYTES = 32 * 1024 * 1024;

/**
 * How many tasks may be unconfirmed at once. Fixed, or adaptive up to `max`:
 * it doubles when it is full although half a window was confirmed since it last
 * grew (confirms flow, yet lag: the broker syncing to a slow disk leaves a fixed
 * window's socket idle between them), while the unconfirmed bodies take under
 * ADAPTIVE_MAX_BYTES.
 */
export class ConfirmWindow {
  size: number;
  private readonly max: number;
  private bytes = 0;
  private confirmedSinceGrowth = 0;

  constructor(size: number, max?: number) {
    this.size = Math.max(1, size);
    this.max = Math.max(this.size, max ?? this.size);
  }

  /** Whether `inflight` tasks fill it (growing it first when it may). */
  full(inflight: number): boolean {
    if (
      inflight >= this.size &&
      this.size < this.max &&
      this.confirmedSinceGrowth >= this.size / 2 &&
      this.bytes < ADAPTIVE_MAX_BYTES
    ) {
      this.size = Math.min(this.max, this.size * 2);
      this.confirmedSinceGrowth = 0;
    }
    return inflight >= this.size;
  }

  published(bytes: number): void {
    this.bytes += bytes;
  }

  confirmed(bytes: number): void {
    this.bytes -= bytes;
    this.confirmedSinceGrowth++;
  }
}
