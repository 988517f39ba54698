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
  // Each row: what is measured, its reference, the samples of each (FILE's "ROW IMPL" keys), and
  // its target. Rounds alternate reference and taskq, so sample i of one goes with sample i of the
  // other: the ratio is the median of those per-round ratios (a slow spell of the machine moves
  // both of a pair), and the spread of the per-round ratios is printed next to it.
  const rows: Array<{ label: string; taskq: string; ref?: string; refLabel?: string; unit: string; target: string }> = [
    {
      label: "bench zero work, prefetch 1",
      taskq: "bench-p1 taskq",
      ref: "bench-p1 ref",
      refLabel: "tutorial client",
      unit: "tasks/s",
      target: ">= 1.00",
    },
    {
      label: "bench zero work, prefetch 100",
      taskq: "bench-p100 taskq",
      ref: "bench-p100 ref",
      refLabel: "tutorial client",
      unit: "tasks/s",
      target: ">= 1.00",
    },
    {
      label: "bench zero work, prefetch 1",
      taskq: "bench-p1 taskq",
      ref: "bench-go-p1 ref",
      refLabel: "tutorial client in Go (amqp091-go)",
      unit: "tasks/s",
      target: ">= 1.00 (stretch)",
    },
    {
      label: "bench zero work, prefetch 100",
      taskq: "bench-p100 taskq",
      ref: "bench-go-p100 ref",
      refLabel: "tutorial client in Go (amqp091-go)",
      unit: "tasks/s",
      target: ">= 1.00 (stretch)",
    },
    {
      label: "send, window 1024",
      taskq: "send-window taskq",
      ref: "send-window ref",
      refLabel: "publisher, window 1024",
      unit: "tasks/s",
      target: ">= 1.00",
    },
    {
      label: "send (default window)",
      taskq: "send-unbounded taskq",
      ref: "send-unbounded ref",
      refLabel: "publisher, unbounded",
      unit: "tasks/s",
      target: ">= 0.95",
    },
    {
      label: "send (default window)",
      taskq: "send-unbounded taskq",
      ref: "send-unbounded-props ref",
      refLabel: "publisher, unbounded, taskq's properties",
      unit: "tasks/s",
      target: "-",
    },
    {
      label: "send (default window)",
      taskq: "send-unbounded taskq",
      ref: "send-unbounded-mandatory ref",
      refLabel: "publisher, unbounded, every task mandatory",
      unit: "tasks/s",
      target: "-",
    },
    {
      label: "work -- /bin/true, per task, prefetch 1",
      taskq: "work-p1 taskq",
      ref: "work-loop ref",
      refLabel: "bare spawn loop",
      unit: "ms",
      target: "-",
    },
    {
      label: "work -- /bin/true, per task, prefetch auto",
      taskq: "work-pauto taskq",
      ref: "work-loop ref",
      refLabel: "bare spawn loop",
      unit: "ms",
      target: "<= 1.20",
    },
    {
      label: "work -- /bin/true, per task, prefetch 1",
      taskq: "work-p1 taskq",
      ref: "work-amqp-p1 ref",
      refLabel: "amqplib worker, prefetch 1",
      unit: "ms",
      target: "<= 1.00",
    },
    {
      label: "work -- /bin/true, per task, prefetch 1",
      taskq: "work-p1 taskq",
      ref: "work-amqp-p1-detached ref",
      refLabel: "amqplib worker, prefetch 1, own session",
      unit: "ms",
      target: "-",
    },
    {
      label: "work -- /bin/true, per task, prefetch auto",
      taskq: "work-pauto taskq",
      ref: "work-amqp-p100 ref",
      refLabel: "amqplib worker, prefetch 100",
      unit: "ms",
      target: "<= 1.00",
    },
    {
      label: "work -- /bin/true, per task, prefetch auto",
      taskq: "work-pauto taskq",
      ref: "work-amqp-p100-detached ref",
      refLabel: "amqplib worker, prefetch 100, own session",
      unit: "ms",
      target: "-",
    },
    // scripts/perf --only node: the library on Node 22 (the "taskq" column) against Bun (the reference).
    {
      label: "library send, Node 22",
      taskq: "lib-send node22",
      ref: "lib-send bun",
      refLabel: "the same on Bun",
      unit: "tasks/s",
      target: "-",
    },
    {
      label: "library work, zero work, prefetch 1, Node 22",
      taskq: "lib-work-p1 node22",
      ref: "lib-work-p1 bun",
      refLabel: "the same on Bun",
      unit: "tasks/s",
      target: "-",
    },
    {
      label: "library work, zero work, prefetch 100, Node 22",
      taskq: "lib-work-p100 node22",
      ref: "lib-work-p100 bun",
      refLabel: "the same on Bun",
      unit: "tasks/s",
      target: "-",
    },
    { label: "send, peak RSS", taskq: "send-rss taskq", unit: "MB", target: "<= 150 MB" },
    { label: "taskq --version, whole process", taskq: "version taskq", unit: "ms", target: "<= 30 ms" },
  ];
  const samples = new Map<string, number[]>();
  for (const line of (await Bun.file(arg).text()).split("\n")) {
    const [row, impl, value] = line.trim().split(/\s+/);
    if (!row || !impl || value === undefined) continue;
    const key = `${row} ${impl}`;
    samples.set(key, [...(samples.get(key) ?? []), Number(value)]);
  }
  const fmt = (xs: number[], unit: string) => `${median(xs).toFixed(unit === "ms" ? 3 : 0)} ${unit}`;
  const out = [
    ["measure", "reference", "reference median", "taskq median", "taskq/ref", "per round", "target", "runs"],
  ];
  for (const r of rows) {
    const taskq = samples.get(r.taskq);
    if (!taskq) continue;
    const ref = r.ref ? samples.get(r.ref) : undefined;
    if (r.ref && !ref) continue; // that reference was not run (e.g. the Go client without --go)
    const pairs = ref ? taskq.slice(0, ref.length).map((t, i) => t / (ref[i] as number)) : [];
    const ratio = pairs.length ? median(pairs).toFixed(2) : "-";
    const spread = pairs.length > 1 ? `${Math.min(...pairs).toFixed(2)}-${Math.max(...pairs).toFixed(2)}` : "-";
    out.push([
      r.label,
      r.refLabel ?? "-",
      ref ? fmt(ref, r.unit) : "-",
      fmt(taskq, r.unit),
      ratio,
      spread,
      r.target,
      String(taskq.length),
    ]);
  }
  const widths = out[0]!.map((_, i) => Math.max(...out.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(line(out[0]!));
  console.log(`| ${widths.map((w, i) => (i < 2 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`);
  for (const row of out.slice(1)) console.log(line(row));
} else {
  console.error("usage: table.ts field FIELD < output | table.ts table FILE");
  process.exit(2);
}
