// JSON and medians for scripts/compare (so it needs no jq).
//   bun scripts/minimal/results.ts throughput baseline|tutorial|taskq   < one run's stdout
//       prints the run's "THROUGHPUT MAKESPAN_MS EFFICIENCY" (efficiency "-" for zero work)
//       (baseline, tutorial: .throughput/.ms/.efficiency; taskq bench --json: .runs[0]...)
//   bun scripts/minimal/results.ts table FILE
//       FILE has lines "IMPL PREFETCH THROUGHPUT MAKESPAN_MS EFFICIENCY"; prints the
//       comparison table of medians (with makespan and efficiency when there was work)
export {};

const [command, arg] = process.argv.slice(2);

function die(message: string): never {
  console.error(`results: ${message}`);
  process.exit(1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The JSON document in a run's stdout: the whole of it, else its last line that parses. */
function parseOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const lines = text.split("\n").filter((l) => l.trim().startsWith("{"));
    for (const line of lines.reverse()) {
      try {
        return JSON.parse(line);
      } catch {}
    }
    die(`no JSON in output: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

if (command === "throughput") {
  type Run = { throughput?: unknown; ms?: unknown; makespanMs?: unknown; efficiency?: unknown };
  const doc = parseOutput(await Bun.stdin.text()) as Run & { runs?: Run[] };
  const run =
    arg === "baseline" || arg === "tutorial"
      ? { ...doc, makespanMs: doc.ms }
      : arg === "taskq"
        ? (doc.runs?.[0] ?? {})
        : die(`unknown impl ${arg}`);
  const number = (what: string, value: unknown): number => {
    if (typeof value !== "number" || !Number.isFinite(value)) die(`no ${what} in ${arg} output`);
    return value;
  };
  const efficiency =
    run.efficiency === null || run.efficiency === undefined ? "-" : number("efficiency", run.efficiency);
  console.log(`${number("throughput", run.throughput)} ${number("makespan", run.makespanMs)} ${efficiency}`);
} else if (command === "table" && arg !== undefined) {
  type Samples = { rate: number[]; ms: number[]; eff: number[] };
  const empty = (): Samples => ({ rate: [], ms: [], eff: [] });
  const byPrefetch = new Map<string, { baseline: Samples; tutorial: Samples; taskq: Samples }>();
  for (const line of (await Bun.file(arg).text()).split("\n")) {
    const [impl, prefetch, rate, ms, eff] = line.trim().split(/\s+/);
    if (impl !== "baseline" && impl !== "tutorial" && impl !== "taskq") continue;
    if (prefetch === undefined || rate === undefined) continue;
    const entry = byPrefetch.get(prefetch) ?? { baseline: empty(), tutorial: empty(), taskq: empty() };
    byPrefetch.set(prefetch, entry);
    entry[impl].rate.push(Number(rate));
    if (ms !== undefined) entry[impl].ms.push(Number(ms));
    if (eff !== undefined && eff !== "-") entry[impl].eff.push(Number(eff));
  }
  const withWork = [...byPrefetch.values()].some((e) => e.baseline.eff.length + e.taskq.eff.length > 0);
  const fmt = (xs: number[], digits = 0) => (xs.length ? median(xs).toFixed(digits) : "n/a");
  const ratio = (a: number[], b: number[]) => (a.length && b.length ? (median(a) / median(b)).toFixed(2) : "n/a");
  // The tutorial's client (publish all, confirms once, STOP per worker) only runs with zero work.
  const withTutorial = [...byPrefetch.values()].some((e) => e.tutorial.rate.length > 0);
  const rows = [["prefetch", "baseline tasks/s", "taskq tasks/s", "taskq/baseline"]];
  if (withTutorial) rows[0]!.push("tutorial tasks/s", "taskq/tutorial");
  if (withWork) rows[0]!.push("baseline makespan ms", "taskq makespan ms", "baseline efficiency", "taskq efficiency");
  for (const [prefetch, { baseline, tutorial, taskq }] of byPrefetch) {
    const row = [prefetch, fmt(baseline.rate), fmt(taskq.rate), ratio(taskq.rate, baseline.rate)];
    if (withTutorial) row.push(fmt(tutorial.rate), ratio(taskq.rate, tutorial.rate));
    if (withWork) row.push(fmt(baseline.ms), fmt(taskq.ms), fmt(baseline.eff, 3), fmt(taskq.eff, 3));
    rows.push(row);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join("  "));
} else {
  die("usage: results.ts throughput baseline|tutorial|taskq < output | results.ts table FILE");
}
