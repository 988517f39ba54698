// JSON and medians for scripts/compare (so it needs no jq).
//   bun scripts/minimal/results.ts throughput baseline|taskq   < one run's stdout
//       prints the run's throughput (baseline: .throughput; taskq bench --json: .runs[0].throughput)
//   bun scripts/minimal/results.ts table FILE
//       FILE has lines "IMPL PREFETCH THROUGHPUT"; prints the comparison table
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
  const doc = parseOutput(await Bun.stdin.text()) as { throughput?: unknown; runs?: { throughput?: unknown }[] };
  const value = arg === "baseline" ? doc.throughput : arg === "taskq" ? doc.runs?.[0]?.throughput : die(`unknown impl ${arg}`);
  if (typeof value !== "number" || !Number.isFinite(value)) die(`no throughput in ${arg} output`);
  console.log(value);
} else if (command === "table" && arg !== undefined) {
  const byPrefetch = new Map<string, { baseline: number[]; taskq: number[] }>();
  for (const line of (await Bun.file(arg).text()).split("\n")) {
    const [impl, prefetch, value] = line.trim().split(/\s+/);
    if (impl !== "baseline" && impl !== "taskq") continue;
    if (prefetch === undefined || value === undefined) continue;
    let entry = byPrefetch.get(prefetch);
    if (!entry) byPrefetch.set(prefetch, (entry = { baseline: [], taskq: [] }));
    entry[impl].push(Number(value));
  }
  const fmt = (xs: number[]) => (xs.length ? median(xs).toFixed(0) : "n/a");
  const rows = [["prefetch", "baseline tasks/s", "taskq tasks/s", "taskq/baseline"]];
  for (const [prefetch, { baseline, taskq }] of byPrefetch) {
    const ratio = baseline.length && taskq.length ? (median(taskq) / median(baseline)).toFixed(2) : "n/a";
    rows.push([prefetch, fmt(baseline), fmt(taskq), ratio]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join("  "));
} else {
  die("usage: results.ts throughput baseline|taskq < output | results.ts table FILE");
}
