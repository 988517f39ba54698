import { CSS } from "./html.ts";
import { Html, html } from "./markup.ts";
import type { RateFigures } from "./rate-figures.ts";
import { RATE_SERIES, depthSvg, latencyRateSvg } from "./rate-plots.ts";
import { RATE_COLUMNS, type RateMeta, rateAccountedFor, rateSetup } from "./rate-report.ts";

/** What the page's header says besides the setup. */
export interface RatePageMeta extends RateMeta {
  startedAt: Date;
  host: string;
  version: string;
  runtime: string;
}

const RATE_CSS = `
.rate-key { display: flex; gap: 16px; color: var(--muted); margin: 6px 0; }
.depths { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 4px 32px; }
svg .warmup { fill: var(--band); }
svg .series-label { font-weight: 600; }
`;

const utc = (d: Date) => `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;

function table(results: readonly RateFigures[]): Html {
  const head = RATE_COLUMNS.map(([h]) => html`<th scope="col">${h}</th>`);
  const rows = results.map(
    (r) =>
      html`<tr${rateAccountedFor(r) ? "" : new Html(' class="bad"')}>${RATE_COLUMNS.map(([, cell]) => html`<td>${cell(r)}</td>`)}</tr>`,
  );
  return html`<table class="summary rate-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * `bench --rate --report` as one self-contained page (no script, nothing loaded: the same policy
 * as the closed loop's report): the table, latency against the rate, and depth over time per rate.
 */
export function rateHtmlReport(results: readonly RateFigures[], meta: RatePageMeta): string {
  const param = (name: string, value: unknown) => html`<div><dt>${name}</dt><dd>${value}</dd></div>`;
  const spanMs = Math.max(1, ...results.flatMap((r) => r.depth.map((d) => d.atMs)));
  const bad = results.filter((r) => !rateAccountedFor(r)).length;
  const key = RATE_SERIES.map(
    ([, label, color]) => html`<span><span class="swatch" style="background:${color}"></span>${label}</span>`,
  );
  const depths = results.map(
    (r) =>
      html`<div class="depth" id="depth-${r.target}"><h3>${r.target} tasks/s <span class="sub">max depth ${r.maxDepth} · reached ${r.reached.toFixed(0)}/s · utilisation ${(r.utilisation * 100).toFixed(1)}%</span></h3>${depthSvg(r, meta.warmupMs, spanMs)}</div>`,
  );
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskq bench --rate: ${results.map((r) => r.target).join(", ")} tasks/s</title>
<style>${new Html(CSS + RATE_CSS)}</style>
</head>
<body>
<main>
<header>
<h1>taskq bench --rate</h1>
<div class="note">Open loop: tasks published at a fixed rate, ${rateSetup(meta)}.</div>
<dl class="params">${[
    param("rates (tasks/s)", results.map((r) => r.target).join(", ")),
    param("workers", meta.workers),
    param("prefetch", meta.prefetch),
    param("work profile", meta.work),
    param("seed", meta.seed),
    param("queue type", meta.queueType),
    param("per rate", `${meta.warmupMs / 1000} s warm-up + ${meta.durationMs / 1000} s`),
    param("date", utc(meta.startedAt)),
    param("host", meta.host),
    param("taskq", meta.version),
    param("runtime", meta.runtime),
  ]}</dl>
${bad > 0 ? html`<p class="bad">${bad} rate(s) did not account for every task exactly once.</p>` : ""}
</header>
<section id="summary">
<h2>Summary</h2>
<p class="note">Latency from each task's intended send time (start + i / rate) to done, so a sender that fell behind does not hide its backlog; exact, from sorted samples, warm-up not counted. Reached: tasks done per second; sent: tasks published per second; sender late: intended send time → publish; depth: tasks ready in the queue (sampled every 200 ms); utilisation: the workers' busy time / (workers × time).</p>
${table(results)}
</section>
<section id="latency-rate">
<h2>Latency against rate</h2>
<p class="note">Log scale: where the lines climb is the knee, the rate past which tasks wait in the queue.</p>
<div class="rate-key">${key}</div>
${latencyRateSvg(results)}
</section>
<section id="depth">
<h2>Queue depth over time</h2>
<p class="note">Tasks ready, per rate, on one time axis (s since the rate's first publish); the shaded band is the warm-up.</p>
<div class="depths">${depths}</div>
</section>
<footer>Written by taskq ${meta.version}. Self-contained: no scripts, fonts or images are loaded.</footer>
</main>
</body>
</html>
`;
  return page.text;
}
