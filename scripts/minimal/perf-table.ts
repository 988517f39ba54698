// Medians and ratios for scripts/perf (so it needs no jq).
//   bun scripts/minimal/perf-table.ts field FIELD   < a run's stdout: prints FIELD of its last JSON line
//   bun scripts/minimal/perf-table.ts table FILE    FILE: lines "ROW IMPL VALUE"; prints the table
export {};

const [command, arg] = process.argv.slice(2);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

if (command === "field" && arg) {
  const lines = (await Bun.stdin.text()).split("\n").filter((l) => l.trim().startsWith("{"));
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(lines.at(-1) ?? "{}");
  } catch {}
  // taskq bench --json keeps its figures in runs[0].
  const runs = doc.runs as Record<string, unknown>[] | undefined;
  const value = doc[arg] ?? runs?.[0]?.[arg];
  if (typeof value !== "number") {
    console.error(`perf: no ${arg} in ${JSON.stringify(lines.at(-1) ?? "").slice(0, 200)}`);
    process.exit(1);
  }
  console.log(value);
} else if (command === "table" && arg) {
  // Each row: what is measured, the reference, taskq, how the ratio reads and its target.
  const rows: Array<{ key: string; label: string; unit: string; ref?: string; target: string; better: "higher" | "lower" }> = [
    { key: "bench-p1", label: "bench zero work, prefetch 1", unit: "tasks/s", ref: "tutorial client", target: ">= 1.00", better: "higher" },
    { key: "bench-p100", label: "bench zero work, prefetch 100", unit: "tasks/s", ref: "tutorial client", target: ">= 1.00", better: "higher" },
    { key: "send-window", label: "send, window 1024", unit: "tasks/s", ref: "publisher, window 1024", target: ">= 1.00", better: "higher" },
    { key: "send-unbounded", label: "send (default window)", unit: "tasks/s", ref: "publisher, unbounded", target: ">= 0.95", better: "higher" },
    { key: "work-true-p1", label: "work -- /bin/true, per task, prefetch 1", unit: "ms", ref: "bare spawn loop", target: "-", better: "lower" },
    { key: "work-true-pauto", label: "work -- /bin/true, per task, prefetch auto", unit: "ms", ref: "bare spawn loop", target: "<= 1.20", better: "lower" },
    { key: "send-rss", label: "send, peak RSS", unit: "MB", target: "<= 150 MB", better: "lower" },
    { key: "version", label: "taskq --version, whole process", unit: "ms", target: "<= 30 ms", better: "lower" },
  ];
  const samples = new Map<string, number[]>();
  for (const line of (await Bun.file(arg).text()).split("\n")) {
    const [row, impl, value] = line.trim().split(/\s+/);
    if (!row || !impl || value === undefined) continue;
    const key = `${row} ${impl}`;
    samples.set(key, [...(samples.get(key) ?? []), Number(value)]);
  }
  const fmt = (xs: number[] | undefined, unit: string) => (xs?.length ? median(xs).toFixed(unit === "ms" ? 3 : 0) : "-");
  const out = [["measure", "reference", "reference median", "taskq median", "taskq/ref", "target", "runs"]];
  for (const r of rows) {
    // Rows measured against one reference share its samples (work-true-p1 and -pauto: work-true).
    const ref = samples.get(`${r.key} ref`) ?? samples.get(`${r.key.replace(/-p[^-]+$/, "")} ref`);
    const taskq = samples.get(`${r.key} taskq`);
    if (!taskq) continue;
    const ratio = ref?.length ? (median(taskq) / median(ref)).toFixed(2) : "-";
    out.push([r.label, r.ref ?? "-", ref ? `${fmt(ref, r.unit)} ${r.unit}` : "-", `${fmt(taskq, r.unit)} ${r.unit}`, ratio, r.target, String(taskq.length)]);
  }
  const widths = out[0]!.map((_, i) => Math.max(...out.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(line(out[0]!));
  console.log(`| ${widths.map((w, i) => (i < 2 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`);
  for (const row of out.slice(1)) console.log(line(row));
} else {
  console.error("usage: table.ts field FIELD < output | table.ts table FILE");
  process.exit(2);
}
