import { type Html, html } from "./markup.ts";
import type { RunResult } from "./run-result.ts";

/** One colour per prefetch value, in the order of `--prefetch` (kept apart from the timeline's blue-orange). */
export const PREFETCH_COLORS = ["#2a9d8f", "#7b5ea7", "#c9a227", "#264653", "#e76f51", "#8ab17d", "#b5838d", "#6d6875"];

export const prefetchColor = (i: number): string => PREFETCH_COLORS[i % PREFETCH_COLORS.length] as string;

const WIDTH = 600;
const LEFT = 150;
const RIGHT = 90;
const BAR = 14;
const GAP = 4;
const GROUP_GAP = 12;
const PERCENTILES = ["p50", "p95", "p99", "max"] as const;

/**
 * Horizontal bars of one latency (`wait` = publish to start, `total` =
 * publish to end): a group per percentile, a bar per prefetch value.
 */
export function latencySvg(medians: readonly RunResult[], kind: "wait" | "total"): Html {
  const plot = WIDTH - LEFT - RIGHT;
  const top = 6;
  const groupHeight = medians.length * (BAR + GAP) - GAP;
  const height = top + PERCENTILES.length * (groupHeight + GROUP_GAP);
  const largest = Math.max(0, ...medians.flatMap((r) => PERCENTILES.map((p) => r.latencyMs[kind][p])));
  const scale = largest > 0 ? plot / largest : 0;
  const groups = PERCENTILES.map((p, g) => {
    const y0 = top + g * (groupHeight + GROUP_GAP);
    const bars = medians.map((r, i) => {
      const y = y0 + i * (BAR + GAP);
      const value = r.latencyMs[kind][p];
      const width = Math.max(1, value * scale);
      return html`<text class="series-label" x="${LEFT - 8}" y="${y + BAR - 3}" text-anchor="end">prefetch ${r.prefetch}</text><rect class="latency-bar" x="${LEFT}" y="${y}" width="${width.toFixed(2)}" height="${BAR}" rx="2" fill="${prefetchColor(i)}"><title>${kind} ${p}, prefetch ${r.prefetch}: ${value.toFixed(1)} ms</title></rect><text class="value" x="${(LEFT + width + 6).toFixed(2)}" y="${y + BAR - 3}">${value.toFixed(1)} ms</text>`;
    });
    return html`<text class="group-label" x="0" y="${y0 + groupHeight / 2 + 5}">${p}</text>${bars}`;
  });
  return html`<svg class="latency-chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${kind} latency percentiles per prefetch, ms">${groups}</svg>`;
}
