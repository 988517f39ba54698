import { dlopen, FFIType, ptr } from "bun:ffi";
import { origin } from "./clock.ts";

/**
 * CLOCK_MONOTONIC in milliseconds: the one clock every process on the machine reads alike, for
 * latencies measured across processes (bench --rate: sent by the bench, done in a worker).
 * Bun's performance.now() and process.hrtime() both count from the process's own start, and now()'s
 * wall-clock anchor is off by up to ~1 ms per process, so neither compares across processes.
 * libc's clock_gettime is read once (bun:ffi), to place performance.now() on that clock.
 */
const CLOCK_MONOTONIC: Partial<Record<NodeJS.Platform, { libs: string[]; id: number }>> = {
  linux: { libs: ["libc.so.6", "libc.so"], id: 1 },
  darwin: { libs: ["libSystem.B.dylib"], id: 6 },
};

/** CLOCK_MONOTONIC minus performance.now(), to a microsecond; undefined where libc cannot be read. */
function readMonoOrigin(): number | undefined {
  const clock = CLOCK_MONOTONIC[process.platform];
  for (const lib of clock?.libs ?? []) {
    try {
      const { symbols, close } = dlopen(lib, {
        clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
      });
      const ts = new BigInt64Array(2);
      const at = ptr(ts);
      // The reading bracketed most tightly by performance.now() (a preempted one is discarded).
      let best = Number.POSITIVE_INFINITY;
      let offset: number | undefined;
      for (let k = 0; k < 20; k++) {
        const before = performance.now();
        if (symbols.clock_gettime(clock?.id ?? 1, at) !== 0) break;
        const after = performance.now();
        const ms = Number(ts[0]) * 1000 + Number(ts[1]) / 1e6;
        if (after - before < best) [best, offset] = [after - before, ms - (before + after) / 2];
      }
      close();
      if (offset !== undefined) return offset;
    } catch {
      // not this library: the next, else the fallback
    }
  }
  return undefined;
}

let monoOrigin: number | undefined;
/** Without libc's clock (another platform), now()'s anchor: as good as now() across processes, exact within one. */
const originOf = (): number => (monoOrigin ??= readMonoOrigin() ?? origin);

/**
 * Milliseconds on the machine-wide monotonic clock. The first call reads libc (a few ms): make it before timing
 * anything.
 */
export const mono = (): number => originOf() + performance.now();

/** A now() time of this process on the machine-wide monotonic clock. */
export const toMono = (t: number): number => t - origin + originOf();

/** A machine-wide monotonic time (from any process) as this process's now(). */
export const fromMono = (m: number): number => m - originOf() + origin;
