import { type Html, html } from "./markup.ts";
import type { RunResult } from "./run-result.ts";

/** What all timelines of one report share, so rounds compare at a glance. */
export interface TimelineScale {
  /** Right end of the time axis, ms since the first publish. */
  spanMs: number;
  /** Task durations mapped to the ends of the colour ramp. */
  shortestMs: number;
  longestMs: number;
}

const WIDTH = 1240;
const LEFT = 96;
const RIGHT = 200;
const PLOT = WIDTH - LEFT - RIGHT;
const TOP = 24;
const ROW = 30;
const BAR = 20;
const AXIS = 34;
const SHORT_RGB = [78, 121, 167] as const; // #4e79a7
const LONG_RGB = [242, 142, 43] as const; // #f28e2b

/** Beyond this many tasks a round is drawn as merged busy spans: a bar each would make the page too heavy to open. */
export const MAX_TASK_BARS = 20_000;

const fixed = (x: number, digits = 2) => Number(x.toFixed(digits));

export function timelineScale(runs: readonly RunResult[]): TimelineScale {
  let spanMs = 0;
  let shortestMs = Number.POSITIVE_INFINITY;
  let longestMs = 0;
  for (const run of runs) {
    spanMs = Math.max(spanMs, run.makespanMs, run.idealMs);
    for (const t of run.timeline) {
      spanMs = Math.max(spanMs, t.end);
      shortestMs = Math.min(shortestMs, t.end - t.start);
      longestMs = Math.max(longestMs, t.end - t.start);
    }
  }
  if (!Number.isFinite(shortestMs)) shortestMs = 0;
  return { spanMs: spanMs > 0 ? spanMs : 1, shortestMs, longestMs };
}

/** Blue for the shortest tasks to orange for the longest, on a log scale (5 ms vs 50 ms is what matters). */
export function durationColor(ms: number, scale: TimelineScale): string {
  const lo = Math.max(scale.shortestMs, 0.05);
  const hi = Math.max(scale.longestMs, 0.05);
  const t = hi / lo < 1.2 ? 0 : Math.min(1, Math.max(0, Math.log(Math.max(ms, 0.05) / lo) / Math.log(hi / lo)));
  const channel = (i: 0 | 1 | 2) => Math.round(SHORT_RGB[i] + (LONG_RGB[i] - SHORT_RGB[i]) * t);
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

/** About `target` round steps (1, 2 or 5 × 10^k) from 0 to `span`. */
export function niceTicks(span: number, target = 10): number[] {
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v <= span + step * 1e-9; v += step) ticks.push(fixed(v, 6));
  return ticks;
}

const tickLabel = (ms: number, step: number) => (step >= 1000 ? `${fixed(ms / 1000, 3)} s` : `${fixed(ms, 3)}`);

/**
 * One round as a Gantt chart: a row per worker, a bar per task from its start
 * to its end, x = ms since the round's first publish. Idle gaps, a worker
 * that finished early, long tasks piled on one worker: all show at once.
 */
export function timelineSvg(run: RunResult, scale: TimelineScale): Html {
  const x = (ms: number) => LEFT + (ms / scale.spanMs) * PLOT;
  const height = TOP + run.workers * ROW + AXIS + (run.faults.length > 0 ? FAULT_LANE : 0);
  const plotBottom = TOP + run.workers * ROW;
  const ticks = niceTicks(scale.spanMs);
  const step = (ticks[1] ?? scale.spanMs) - (ticks[0] ?? 0);
  const rows = run.perWorker.map((w, i) => {
    const y = TOP + i * ROW;
    const textY = y + ROW / 2 + 4;
    const band = html`<rect class="row-band${i % 2 ? " odd" : ""}" x="${LEFT}" y="${y}" width="${PLOT}" height="${ROW}"/>`;
    const name = html`<text class="worker-label" x="${LEFT - 10}" y="${textY}" text-anchor="end">worker ${i + 1}</text>`;
    const stats = html`<text class="worker-stats" x="${LEFT + PLOT + 12}" y="${textY}">${w.tasks} tasks · ${w.busyMs.toFixed(0)} ms busy</text>`;
    return html`<g class="worker-row">${band}${name}${stats}</g>`;
  });
  const grid = ticks.map((t) => {
    const line = html`<line class="grid" x1="${fixed(x(t))}" x2="${fixed(x(t))}" y1="${TOP}" y2="${plotBottom}"/>`;
    return html`${line}<text class="tick" x="${fixed(x(t))}" y="${plotBottom + 16}" text-anchor="middle">${tickLabel(t, step)}</text>`;
  });
  const bars = run.timeline.length > MAX_TASK_BARS ? busySpans(run, scale, x) : taskBars(run, scale, x);
  const marker = (ms: number, cls: string, label: string, anchor: "start" | "end") => {
    const line = html`<line class="${cls}" x1="${fixed(x(ms))}" x2="${fixed(x(ms))}" y1="${TOP - 6}" y2="${plotBottom}"/>`;
    const textX = fixed(x(ms) + (anchor === "start" ? 5 : -5));
    return html`${line}<text class="marker-label ${cls}-label" x="${textX}" y="${TOP - 9}" text-anchor="${anchor}">${label}</text>`;
  };
  const kills = run.faults.length > 0 ? faultMarks(run, x) : "";
  const ideal = run.idealMs > 0 ? marker(run.idealMs, "ideal", `ideal ${run.idealMs.toFixed(0)} ms`, "end") : "";
  const makespan = marker(run.makespanMs, "makespan", `makespan ${run.makespanMs.toFixed(0)} ms`, "start");
  const axis = html`<line class="axis" x1="${LEFT}" x2="${LEFT + PLOT}" y1="${plotBottom}" y2="${plotBottom}"/>`;
  const axisTitle = html`<text class="axis-title" x="${LEFT + PLOT + 12}" y="${plotBottom + 16}">ms since first publish</text>`;
  const freezes = run.freezes > 0 ? `, ${run.freezes} node freeze(s)` : "";
  const faults =
    run.faults.length > 0 ? `, ${run.kills.worker} worker and ${run.kills.node} node kill(s)${freezes}` : "";
  const label = `Timeline of prefetch ${run.prefetch}: ${run.workers} workers, ${run.timeline.length} tasks${faults}`;
  const svg = html`<svg class="timeline-chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${label}">`;
  return html`${svg}${rows}${grid}<g class="bars">${bars}</g>${kills}${ideal}${makespan}${axis}${axisTitle}</svg>`;
}

/** Height of the strip under the axis that names each kill. */
const FAULT_LANE = 30;
const LABEL_GAP = 34;

/**
 * Each fault where it happened: a worker kill is a line through that worker's
 * row (the new worker carries on in the same row), a node kill or freeze a line
 * through every row over a band until the node was started or thawed again. The
 * strip under the axis names them ("w3", "node 2"), on two levels so close ones
 * stay readable.
 */
function faultMarks(run: RunResult, x: (ms: number) => number): Html {
  const plotBottom = TOP + run.workers * ROW;
  const lastLabel = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const marks = run.faults.map((f) => {
    const at = fixed(x(Math.max(0, f.at)));
    const level = (lastLabel[0] as number) <= at - LABEL_GAP ? 0 : (lastLabel[1] as number) <= at - LABEL_GAP ? 1 : 0;
    lastLabel[level] = at;
    const labelY = plotBottom + AXIS + 10 + level * 13;
    const back =
      f.back === undefined
        ? "not consuming before the round ended"
        : `consuming ${(f.back - f.at).toFixed(0)} ms later`;
    if (f.kind === "worker") {
      const y = TOP + (f.target - 1) * ROW;
      const open = html`<g class="kill kill-worker" data-kind="worker" data-target="${f.target}" data-at="${f.at.toFixed(1)}">`;
      const title = html`<title>worker ${f.target} killed (SIGKILL) at ${f.at.toFixed(0)} ms; a new worker took its row, ${back}</title>`;
      const line = html`<line class="kill-line" x1="${at}" x2="${at}" y1="${y + 1}" y2="${y + ROW - 1}"/>`;
      const glyph = html`<text class="kill-glyph" x="${at}" y="${y + 9}" text-anchor="middle">✕</text>`;
      const label = html`<text class="kill-label" x="${at}" y="${labelY}" text-anchor="middle">✕ w${f.target}</text>`;
      return html`${open}${title}${line}${glyph}${label}</g>`;
    }
    const downWidth = f.back === undefined ? 0 : fixed(Math.max(0.6, x(f.back) - at));
    const band =
      f.back === undefined
        ? ""
        : html`<rect class="node-down" x="${at}" y="${TOP}" width="${downWidth}" height="${plotBottom - TOP}"/>`;
    const [what, again, glyph] =
      f.kind === "node" ? ["killed (kill -9)", "started again", "✕"] : ["frozen (SIGSTOP)", "thawed", "❄"];
    const when = f.back === undefined ? `never ${again}` : `${again} at ${f.back.toFixed(0)} ms`;
    const open = html`<g class="kill kill-${f.kind}" data-kind="${f.kind}" data-target="${f.target}" data-at="${f.at.toFixed(1)}">`;
    const title = html`<title>node ${f.target} ${what} at ${f.at.toFixed(0)} ms, ${when}</title>`;
    const line = html`<line class="kill-line" x1="${at}" x2="${at}" y1="${TOP}" y2="${plotBottom}"/>`;
    const label = html`<text class="kill-label" x="${at}" y="${labelY}" text-anchor="middle">${glyph} node ${f.target}</text>`;
    return html`${open}${title}${band}${line}${label}</g>`;
  });
  return html`<g class="kills">${marks}</g>`;
}

function taskBars(run: RunResult, scale: TimelineScale, x: (ms: number) => number): Html[] {
  return run.timeline.map((t) => {
    const y = TOP + t.worker * ROW + (ROW - BAR) / 2;
    const left = x(Math.max(0, t.start));
    const full = x(t.end) - left;
    // Touching bars stay apart by a hairline; the shortest task still shows.
    const width = Math.max(0.6, full >= 3 ? full - 0.6 : full);
    const ms = t.end - t.start;
    const title = html`<title>task ${t.task}: ${ms.toFixed(1)} ms, ${t.start.toFixed(1)}–${t.end.toFixed(1)} ms</title>`;
    const fill = durationColor(ms, scale);
    return html`<rect class="task-bar" x="${fixed(left)}" y="${y}" width="${fixed(width)}" height="${BAR}" fill="${fill}">${title}</rect>`;
  });
}

/** Per worker, tasks closer than one unit of the chart merged into one span. */
function busySpans(run: RunResult, scale: TimelineScale, x: (ms: number) => number): Html[] {
  const unitMs = scale.spanMs / PLOT;
  return run.perWorker.flatMap((_, w) => {
    const mine = run.timeline.filter((t) => t.worker === w).sort((a, b) => a.start - b.start);
    const spans: Array<{ start: number; end: number; tasks: number }> = [];
    for (const t of mine) {
      const last = spans[spans.length - 1];
      if (last && t.start - last.end < unitMs) {
        last.end = Math.max(last.end, t.end);
        last.tasks++;
      } else spans.push({ start: t.start, end: t.end, tasks: 1 });
    }
    const y = TOP + w * ROW + (ROW - BAR) / 2;
    return spans.map((s) => {
      const left = x(Math.max(0, s.start));
      const title = html`<title>${s.tasks} tasks, ${s.start.toFixed(1)}–${s.end.toFixed(1)} ms</title>`;
      const width = fixed(Math.max(0.6, x(s.end) - left));
      return html`<rect class="busy-span" x="${fixed(left)}" y="${y}" width="${width}" height="${BAR}">${title}</rect>`;
    });
  });
}

/** The colour key of the bars: shortest to longest task duration (the ramp is linear in log time). */
export function durationLegend(scale: TimelineScale): Html {
  const lo = scale.shortestMs.toFixed(1);
  const hi = scale.longestMs.toFixed(1);
  const from = html`<stop offset="0" stop-color="${durationColor(scale.shortestMs, scale)}"/>`;
  const to = html`<stop offset="1" stop-color="${durationColor(scale.longestMs, scale)}"/>`;
  const ramp = html`<defs><linearGradient id="duration-ramp">${from}${to}</linearGradient></defs>`;
  const svg = html`<svg class="ramp" viewBox="0 0 160 12" width="160" height="12" aria-hidden="true">${ramp}`;
  const bar = html`<rect width="160" height="12" rx="2" fill="url(#duration-ramp)"/></svg>`;
  const key = html`<span class="legend-end">${lo} ms</span>${svg}${bar}<span class="legend-end">${hi} ms</span>`;
  return html`<p class="legend">bar colour = task duration (log scale): ${key}</p>`;
}
