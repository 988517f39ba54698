import { latencySvg, prefetchColor } from "./latency.ts";
import { Html, html } from "./markup.ts";
import { accountedFor, summaryRows } from "./report.ts";
import type { RunResult } from "./run-result.ts";
import { MAX_TASK_BARS, type TimelineScale, durationLegend, timelineScale, timelineSvg } from "./timeline.ts";

/** What the report's header says about the run. */
export interface ReportMeta {
  tasks: number;
  workers: number;
  work: string;
  seed: number;
  rounds: number;
  prefetches: readonly (number | "auto")[];
  queueType: string;
  /** `--chaos` as given, or null. */
  chaos: string | null;
  startedAt: Date;
  host: string;
  /** taskq's version and commit. */
  version: string;
  /** e.g. `Bun 1.4.4, linux x64, 2 CPUs`. */
  runtime: string;
}

/** Trusted, constant; inserted raw because a <style> element does not decode entities. */
export const CSS = `
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; --band: #eef1f4; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 28px 32px 40px; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 36px 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 22px 0 2px; }
h3 .sub, .note { color: var(--muted); font-weight: normal; }
.note { margin: 2px 0 10px; }
.params { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px 24px; margin: 16px 0 0; padding: 14px 18px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.params div { min-width: 0; }
.params dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.params dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.bad { color: var(--bad); font-weight: 600; }
table.summary { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: 8px; }
table.summary th, table.summary td { padding: 5px 16px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.summary th:first-child, table.summary td:first-child { text-align: left; color: var(--muted); }
table.summary thead th { border-bottom: 2px solid var(--ink); }
table.summary tbody tr:nth-child(even) { background: var(--panel); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
svg text { font-family: inherit; font-size: 12px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .worker-label, svg .group-label { fill: var(--ink); font-weight: 600; }
svg .worker-label { font-size: 13px; }
svg .row-band { fill: #fff; }
svg .row-band.odd { fill: var(--band); }
svg .grid { stroke: #c7ced6; stroke-width: 0.6; stroke-dasharray: 2 3; }
svg .axis { stroke: var(--ink); stroke-width: 1; }
svg .ideal { stroke: #444; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg .makespan { stroke: var(--bad); stroke-width: 1.5; }
svg .makespan-label { fill: var(--bad); font-weight: 600; }
svg .ideal-label { fill: #444; font-weight: 600; }
svg .value { fill: var(--ink); }
svg .busy-span { fill: #6b84a3; }
svg .kill-worker { --kill: #c2185b; }
svg .kill-node { --kill: #6a3d9a; }
svg .kill-freeze { --kill: #1f78b4; }
svg .kill-line { stroke: var(--kill); stroke-width: 2; }
svg .kill-glyph, svg .kill-label { fill: var(--kill); font-weight: 700; }
svg .kill-glyph { font-size: 10px; }
svg .kill-label { font-size: 11px; }
svg .node-down { fill: var(--kill); fill-opacity: 0.12; }
.kill-key { font-weight: 700; }
.kill-key.worker { color: #c2185b; }
.kill-key.node { color: #6a3d9a; }
.kill-key.freeze { color: #1f78b4; }
.timeline { margin-bottom: 8px; }
.legend { display: flex; align-items: center; gap: 8px; color: var(--muted); margin: 6px 0; }
.legend-end { color: var(--ink); font-variant-numeric: tabular-nums; }
.latency { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px 40px; }
.latency h3 { margin-top: 10px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
`;

const utc = (d: Date) => `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;

function summaryTable(medians: readonly RunResult[]): Html {
  const first = medians[0];
  if (!first) return html``;
  const head = medians.map(
    (r, i) =>
      html`<th scope="col"><span class="swatch" style="background:${prefetchColor(i)}"></span>prefetch ${r.prefetch}</th>`,
  );
  const body = summaryRows(first).map(
    ([label, cell]) => html`<tr><td>${label}</td>${medians.map((r) => html`<td>${cell(r)}</td>`)}</tr>`,
  );
  return html`<table class="summary"><thead><tr><th scope="col">metric</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function timelineSection(run: RunResult, meta: ReportMeta, scale: TimelineScale): Html {
  const which = meta.rounds > 1 ? `round 1 of ${meta.rounds}` : "";
  const efficiency = run.efficiency === null ? "n/a (no work)" : run.efficiency.toFixed(3);
  const merged =
    run.timeline.length > MAX_TASK_BARS
      ? ` · more than ${MAX_TASK_BARS} tasks: drawn as busy spans, not a bar per task`
      : "";
  const counts = `${run.missing} missing, ${run.duplicates} duplicated`;
  const lost = accountedFor(run)
    ? run.chaos === null
      ? ""
      : ` · ${counts}`
    : html` · <span class="bad">${counts}</span>`;
  const workerKills = html`<span class="kill-key worker">✕</span> ${run.kills.worker} worker kill(s)`;
  const nodeKills = html`<span class="kill-key node">✕</span> ${run.kills.node} node kill(s)`;
  const freezes = run.freezes > 0 ? html`<span class="kill-key freeze">❄</span> ${run.freezes} node freeze(s), ` : "";
  const chaos =
    run.chaos === null ? "" : html` · ${workerKills}, ${nodeKills}, ${freezes}${run.redeliveries} redelivered`;
  const figures = html`makespan ${run.makespanMs.toFixed(0)} ms · ideal ${run.idealMs.toFixed(0)} ms · efficiency ${efficiency}`;
  const fairness = html` · Jain ${run.jain.toFixed(3)} · ${run.throughput.toFixed(0)} tasks/s`;
  const open = html`<section class="timeline" id="timeline-prefetch-${run.prefetch}" data-prefetch="${run.prefetch}">`;
  const heading = html`<h3>prefetch ${run.prefetch} <span class="sub">${which}</span></h3>`;
  const note = html`<p class="note">${figures}${fairness}${merged}${chaos}${lost}</p>`;
  return html`${open}${heading}${note}${timelineSvg(run, scale)}</section>`;
}

/**
 * The bench as one self-contained HTML page: no script, no font, no image
 * and no stylesheet is loaded from anywhere (a Content-Security-Policy says
 * so to the browser too). The table shows medians; each timeline shows the
 * first round of its prefetch value.
 */
export function htmlReport(runs: readonly RunResult[], medians: readonly RunResult[], meta: ReportMeta): string {
  const firstRounds = medians.map((m) => runs.find((r) => r.prefetch === m.prefetch) ?? m);
  const scale = timelineScale(firstRounds);
  const bad = runs.filter((r) => !accountedFor(r)).length;
  const param = (name: string, value: unknown) => html`<div><dt>${name}</dt><dd>${value}</dd></div>`;
  const title = `taskq bench: ${meta.tasks} tasks, ${meta.work}, ${meta.workers} workers`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<main>
<header>
<h1>taskq bench</h1>
<div class="note">${meta.tasks} tasks (work <code>${meta.work}</code>) on ${meta.workers} workers, one round per prefetch value${meta.rounds > 1 ? `, ${meta.rounds} rounds each` : ""}</div>
<dl class="params">${[
    param("tasks", meta.tasks),
    param("workers", meta.workers),
    param("work profile", meta.work),
    param("prefetch", meta.prefetches.join(", ")),
    param("rounds", meta.rounds),
    param("seed", meta.seed),
    param("queue type", meta.queueType),
    ...(meta.chaos === null ? [] : [param("chaos", meta.chaos)]),
    param("date", utc(meta.startedAt)),
    param("host", meta.host),
    param("taskq", meta.version),
    param("runtime", meta.runtime),
  ]}</dl>
${bad > 0 ? html`<p class="bad">${bad} round(s) did not account for every task ${meta.chaos === null ? "exactly once" : "(tasks lost under chaos)"}.</p>` : ""}
</header>
<section id="summary">
<h2>Summary</h2>
<p class="note">${meta.rounds > 1 ? `Medians of ${meta.rounds} rounds per prefetch value. ` : ""}Throughput from the first publish to the last task done; efficiency = ideal / makespan; Jain's index over busy time (1 = fair); latencies exact, from sorted samples: wait = publish → start, total = publish → done; gap = how long a worker sat idle between one task and its next (at prefetch 1: the broker round trip).</p>
${summaryTable(medians)}
</section>
<section id="timelines">
<h2>Timelines</h2>
<p class="note">One row per worker, one bar per task from its start to its end; x = ms since the round's first publish, the same scale for every round. Dashed line: ideal makespan; red line: makespan.${meta.chaos === null ? "" : " Under chaos: a pink ✕ line is a worker killed with SIGKILL (a new worker carries on in its row), a purple line and band a node killed with kill -9 until it was started again, a blue line and band a node frozen with SIGSTOP until it was thawed and answered again; the strip under the axis names each fault."}${meta.rounds > 1 ? ` Each timeline shows the first of the ${meta.rounds} rounds of its prefetch value.` : ""}</p>
${firstRounds.some((r) => r.timeline.length <= MAX_TASK_BARS) ? durationLegend(scale) : ""}
${firstRounds.map((r) => timelineSection(r, meta, scale))}
</section>
<section id="latency">
<h2>Latency percentiles</h2>
<p class="note">${meta.rounds > 1 ? `Medians of ${meta.rounds} rounds; ` : ""}milliseconds.</p>
<div class="latency"><div><h3>wait (publish → start)</h3>${latencySvg(medians, "wait")}</div><div><h3>total (publish → done)</h3>${latencySvg(medians, "total")}</div></div>
</section>
<footer>Written by taskq ${meta.version}. Self-contained: no scripts, fonts or images are loaded.</footer>
</main>
</body>
</html>
`;
  return page.text;
}
