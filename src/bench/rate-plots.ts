import { type Html, html } from "./markup.ts";
import type { RateFigures, TailPercentiles } from "./rate-figures.ts";
import { niceTicks } from "./timeline.ts";

/** The percentiles drawn against the rate, each with its colour. */
export const RATE_SERIES: ReadonlyArray<[keyof TailPercentiles, string, string]> = [
  ["p50", "p50", "#2a9d8f"],
  ["p95", "p95", "#c9a227"],
  ["p99", "p99", "#e76f51"],
  ["p999", "p99.9", "#7b5ea7"],
  ["max", "max", "#59636e"],
];

const W = 760;
const LEFT = 70;
const RIGHT = 80;
const TOP = 14;
const PLOT_H = 300;
const AXIS = 40;
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Powers of ten from below `lo` to above `hi`, the log axis's ticks. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/**
 * Latency against the rate: x = the target rate (tasks/s), y = ms from the intended send time to
 * done on a log scale (past the knee latency grows by orders of magnitude), a line per percentile.
 */
export function latencyRateSvg(results: readonly RateFigures[]): Html {
  const plotW = W - LEFT - RIGHT;
  const values = results.flatMap((r) => RATE_SERIES.map(([k]) => r.latencyMs[k]));
  const ticks = decades(Math.max(0.01, Math.min(...values.filter((v) => v > 0), 1)), Math.max(1, ...values));
  const lo = ticks[0] as number;
  const hi = ticks[ticks.length - 1] as number;
  const y = (ms: number) =>
    TOP + PLOT_H - ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1)) * PLOT_H;
  const most = Math.max(...results.map((r) => r.target)) * 1.05;
  const xTicks = niceTicks(most, 6);
  const x = (rate: number) => LEFT + (rate / most) * plotW;
  const grid = ticks.map(
    (t) =>
      html`<line class="grid" x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/><text x="${LEFT - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t >= 1 ? t : t.toString()} ms</text>`,
  );
  const xAxis = xTicks.map(
    (t) =>
      html`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${TOP}" y2="${TOP + PLOT_H}"/><text x="${x(t).toFixed(1)}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${t}</text>`,
  );
  const series = RATE_SERIES.map(([key, label, color]) => {
    const points = results.map((r) => `${x(r.target).toFixed(1)},${y(r.latencyMs[key]).toFixed(1)}`).join(" ");
    const dots = results.map(
      (r) =>
        html`<circle class="rate-point" cx="${x(r.target).toFixed(1)}" cy="${y(r.latencyMs[key]).toFixed(1)}" r="3.5" fill="${color}"><title>${label} at ${r.target} tasks/s: ${fmt(r.latencyMs[key])} ms (reached ${r.reached.toFixed(0)} tasks/s)</title></circle>`,
    );
    const last = results[results.length - 1];
    const end = last
      ? html`<text class="series-label" x="${(x(last.target) + 8).toFixed(1)}" y="${(y(last.latencyMs[key]) + 4).toFixed(1)}" fill="${color}">${label}</text>`
      : "";
    return html`<g class="rate-series" data-series="${label}"><polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>${dots}${end}</g>`;
  });
  const axes = html`<line class="axis" x1="${LEFT}" x2="${LEFT + plotW}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H}"/><line class="axis" x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + PLOT_H}"/><text x="${LEFT + plotW / 2}" y="${TOP + PLOT_H + 34}" text-anchor="middle">target rate (tasks/s)</text>`;
  return html`<svg class="rate-chart" viewBox="0 0 ${W} ${TOP + PLOT_H + AXIS}" width="100%" role="img" aria-label="latency from intended send time to done against the rate, ms, log scale">${grid}${xAxis}${axes}${series}</svg>`;
}

const DW = 560;
const DLEFT = 60;
const DRIGHT = 16;
const DH = 110;

/** One rate's queue depth over time (tasks ready, sampled), the warm-up shaded. */
export function depthSvg(r: RateFigures, warmupMs: number, spanMs: number): Html {
  const plotW = DW - DLEFT - DRIGHT;
  const top = Math.max(1, r.maxDepth);
  const x = (ms: number) => DLEFT + (Math.max(0, ms) / spanMs) * plotW;
  const y = (n: number) => TOP + DH - (n / top) * DH;
  const points = r.depth.map((d) => `${x(d.atMs).toFixed(1)},${y(d.ready).toFixed(1)}`).join(" ");
  const xTicks = niceTicks(spanMs, 6);
  const step = (xTicks[1] ?? spanMs) - (xTicks[0] ?? 0);
  const label = (ms: number) => (step >= 1000 ? `${Number((ms / 1000).toFixed(2))} s` : `${ms} ms`);
  const grid = xTicks.map(
    (t) =>
      html`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${TOP}" y2="${TOP + DH}"/><text x="${x(t).toFixed(1)}" y="${TOP + DH + 16}" text-anchor="middle">${label(t)}</text>`,
  );
  const warm =
    warmupMs > 0
      ? html`<rect class="warmup" x="${DLEFT}" y="${TOP}" width="${(x(warmupMs) - DLEFT).toFixed(1)}" height="${DH}"><title>warm-up: not counted</title></rect>`
      : "";
  const yLabels = html`<text x="${DLEFT - 8}" y="${TOP + 4}" text-anchor="end">${top}</text><text x="${DLEFT - 8}" y="${TOP + DH + 4}" text-anchor="end">0</text>`;
  const axes = html`<line class="axis" x1="${DLEFT}" x2="${DLEFT + plotW}" y1="${TOP + DH}" y2="${TOP + DH}"/><line class="axis" x1="${DLEFT}" x2="${DLEFT}" y1="${TOP}" y2="${TOP + DH}"/>`;
  return html`<svg class="depth-chart" data-rate="${r.target}" viewBox="0 0 ${DW} ${TOP + DH + 24}" width="100%" role="img" aria-label="queue depth over time at ${r.target} tasks/s">${warm}${grid}${axes}${yLabels}<polyline class="depth-line" points="${points}" fill="none" stroke="#4e79a7" stroke-width="1.5"/></svg>`;
}
