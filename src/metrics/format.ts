/**
 * Pieces of the Prometheus text exposition format, version 0.0.4:
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** The Content-Type a scrape expects for this format. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value inside double quotes: `\`, `"` and newline are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text: only `\` and newline are escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value (or an `le` bound) as Prometheus parses it: Go float syntax, `+Inf`, `-Inf`, `NaN`. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** `{a="1",b="2"}` in the given order, or "" without labels. */
export function formatLabels(pairs: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 0) return "";
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

/** The `# HELP` and `# TYPE` lines that open a metric family. */
export function header(name: string, help: string, type: "counter" | "gauge" | "histogram"): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws on a metric or label name the format does not allow (a bug, not a user error). */
export function checkNames(name: string, labelNames: readonly string[]): void {
  if (!NAME.test(name)) throw new Error(`invalid metric name: ${name}`);
  for (const label of labelNames) {
    if (!LABEL.test(label) || label.startsWith("__")) throw new Error(`invalid label name in ${name}: ${label}`);
  }
  if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label name in ${name}`);
}
