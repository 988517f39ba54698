// JSON and medians for scripts/rate-compare (so it needs no jq).
//   bun scripts/minimal/rate-results.ts closed < taskq bench --json     prints the throughput (tasks/s)
//   bun scripts/minimal/rate-results.ts line IMPL < one rate's JSON       prints "IMPL RATE REACHED P50 P99 P999 MAX"
//       (taskq bench --rate --json: its rates[0]; rate-tutorial.ts: its one line)
//   bun scripts/minimal/rate-results.ts table FILE CLOSED...              the table of medians per rate, taskq / minimal,
//       and the check (taskq's p50 and p99 <= 1.05x the minimal client's) at rates up to 80% of the median CLOSED
import { readFileSync } from "node:fs";
import { median } from "../../src/bench/stats.ts";

const [command, arg, ...rest] = process.argv.slice(2);
const stdin = async () =>
  JSON.parse(
    (await Bun.stdin.text())
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .pop() ?? "null",
  );
type Rate = { target: number; reached: number; latencyMs: { p50: number; p99: number; p999: number; max: number } };

if (command === "closed") {
  const doc = (await stdin()) as { runs: Array<{ throughput: number }> };
  console.log(doc.runs[0]?.throughput.toFixed(0));
} else if (command === "line") {
  const doc = await stdin();
  const r = (doc.rates ? doc.rates[0] : doc) as Rate;
  console.log(
    [
      arg,
      r.target,
      r.reached.toFixed(0),
      r.latencyMs.p50.toFixed(3),
      r.latencyMs.p99.toFixed(3),
      r.latencyMs.p999.toFixed(3),
      r.latencyMs.max.toFixed(3),
    ].join(" "),
  );
} else if (command === "table" && arg) {
  const rows = readFileSync(arg, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" "));
  const closed = median(rest.map(Number));
  const rates = [...new Set(rows.map((r) => Number(r[1])))].sort((a, b) => a - b);
  const pick = (impl: string, rate: number, col: number) =>
    median(rows.filter((r) => r[0] === impl && Number(r[1]) === rate).map((r) => Number(r[col])));
  console.log(
    `closed-loop throughput (taskq bench --work 0, median): ${closed.toFixed(0)} tasks/s; 80%: ${(closed * 0.8).toFixed(0)} tasks/s`,
  );
  const header = [
    "rate/s",
    "reached min/taskq",
    "p50 min",
    "p50 taskq",
    "x",
    "p99 min",
    "p99 taskq",
    "x",
    "p99.9 min",
    "p99.9 taskq",
    "check",
  ];
  const lines = rates.map((rate) => {
    const [p50m, p50t, p99m, p99t] = [
      pick("minimal", rate, 3),
      pick("taskq", rate, 3),
      pick("minimal", rate, 4),
      pick("taskq", rate, 4),
    ];
    const ok = p50t <= 1.05 * p50m && p99t <= 1.05 * p99m;
    const check = rate > 0.8 * closed ? "(above 80%)" : ok ? "ok" : "OVER 1.05x";
    return [
      rate,
      `${pick("minimal", rate, 2).toFixed(0)}/${pick("taskq", rate, 2).toFixed(0)}`,
      p50m.toFixed(2),
      p50t.toFixed(2),
      (p50t / p50m).toFixed(2),
      p99m.toFixed(2),
      p99t.toFixed(2),
      (p99t / p99m).toFixed(2),
      pick("minimal", rate, 5).toFixed(1),
      pick("taskq", rate, 5).toFixed(1),
      check,
    ].map(String);
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => (l[c] ?? "").length)));
  for (const l of [header, ...lines]) console.log(l.map((cell, c) => cell.padStart(widths[c] ?? 0)).join("  "));
} else {
  console.error("usage: rate-results.ts closed | line IMPL | table FILE CLOSED...");
  process.exit(2);
}
