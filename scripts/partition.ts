// Silent failures (a link that stops answering: no FIN, no RST): how long taskq takes to notice and
// recover with its default flags, and whether anything is lost. Each cut runs one taskq command with
// `--url PROXY --url DIRECT` (PROXY: test/support/proxy.ts in this process), blackholes the proxy
// mid-run and measures from the cut. Run through scripts/partition (which builds dist/taskq first).
// Usage: bun scripts/partition.ts [--cuts N] [--only "work send requeue"] [--heartbeat VALUE]
//          [--timeout DURATION] [--work-tasks N] [--cut-after N] [--task-ms MS] [--send-tasks N]
//          [--send-cut N] [--dead-tasks N] [--taskq PATH] [--json]
// Broker: TASKQ_URL, then AMQP_URL, then amqp://guest:guest@127.0.0.1:5672 (one URL).
import { parseArgs } from "node:util";
import { parseDuration } from "../src/util/duration.ts";
import { type Context, type CutResult, type Measure, hasHeartbeatFlag } from "./partition-measures/common.ts";
import { requeueMeasure } from "./partition-measures/requeue.ts";
import { sendMeasure } from "./partition-measures/send.ts";
import { workMeasure } from "./partition-measures/work.ts";

const { values } = parseArgs({
  options: {
    cuts: { type: "string", default: "5" },
    only: { type: "string", default: "work send requeue" },
    heartbeat: { type: "string" },
    timeout: { type: "string", default: "120s" },
    "work-tasks": { type: "string", default: "600" },
    "cut-after": { type: "string", default: "40" },
    "task-ms": { type: "string", default: "50" },
    "send-tasks": { type: "string", default: "60000" },
    "send-cut": { type: "string", default: "12000" },
    "dead-tasks": { type: "string", default: "5000" },
    taskq: { type: "string", default: "dist/taskq" },
    json: { type: "boolean", default: false },
  },
});

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, not '${text}'`);
  return n;
}

function usage(message: string): never {
  console.error(`partition: ${message}`);
  process.exit(2);
}

const cuts = positive("cuts", values.cuts);
let timeoutMs = 0;
try {
  timeoutMs = parseDuration(values.timeout ?? "", "--timeout");
} catch (err) {
  usage((err as Error).message);
}
const measures: Measure[] = [];
for (const name of (values.only ?? "").split(/[\s,]+/).filter(Boolean)) {
  if (name === "work")
    measures.push(
      workMeasure({
        tasks: positive("work-tasks", values["work-tasks"]),
        cutAfter: positive("cut-after", values["cut-after"]),
        taskMs: positive("task-ms", values["task-ms"]),
      }),
    );
  else if (name === "send")
    measures.push(
      sendMeasure({
        tasks: positive("send-tasks", values["send-tasks"]),
        cutAt: positive("send-cut", values["send-cut"]),
      }),
    );
  else if (name === "requeue") measures.push(requeueMeasure({ tasks: positive("dead-tasks", values["dead-tasks"]) }));
  else usage(`--only: unknown measure '${name}' (work, send, requeue)`);
}
if (measures.length === 0) usage("--only names no measure");

const ctx: Context = {
  taskq: values.taskq ?? "dist/taskq",
  url:
    (process.env.TASKQ_URL ?? process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672").split(",")[0]?.trim() ?? "",
  heartbeat: values.heartbeat,
  timeoutMs,
  log: (line) => console.error(`partition: ${line}`),
};
const version = (
  await new Response(Bun.spawn([ctx.taskq, "--version"], { stdout: "pipe", stderr: "ignore" }).stdout).text()
).trim();
const heartbeatVia =
  ctx.heartbeat === undefined
    ? "taskq's default"
    : (await hasHeartbeatFlag(ctx.taskq, ["work"]))
      ? `--heartbeat ${ctx.heartbeat.replace(/^(\d+)$/, "$1s")}`
      : `?heartbeat=${ctx.heartbeat.replace(/s$/, "")} in the URLs (this taskq has no --heartbeat)`;

const runs = new Map<string, CutResult[]>();
for (const m of measures) {
  const results: CutResult[] = [];
  runs.set(m.name, results);
  for (let i = 1; i <= cuts; i++) {
    let r: CutResult;
    try {
      r = await m.run(ctx);
    } catch (err) {
      r = {
        ms: Object.fromEntries(m.durations.map(([k]) => [k, null])),
        counts: {},
        failures: [(err as Error).message],
      };
    }
    results.push(r);
    const figures = [
      ...m.durations.map(([k]) => `${k} ${fmtS(r.ms[k])}`),
      ...m.counts.filter(([k]) => k in r.counts).map(([k]) => `${k} ${r.counts[k]}`),
    ];
    if (m.exits) figures.push(`exit ${r.exitCode === undefined ? "-" : String(r.exitCode)}`);
    ctx.log(
      `${m.name} cut ${i}/${cuts}: ${figures.join(", ")}${r.failures.length ? ` — FAILED: ${r.failures.join("; ")}` : ""}`,
    );
  }
}

interface Stat {
  n: number;
  of: number;
  median: number | null;
  min: number | null;
  max: number | null;
}

function stat(xs: Array<number | null | undefined>): Stat {
  const got = xs.filter((x): x is number => typeof x === "number").sort((a, b) => a - b);
  const mid = Math.floor(got.length / 2);
  const median =
    got.length === 0
      ? null
      : got.length % 2 === 1
        ? (got[mid] as number)
        : ((got[mid - 1] as number) + (got[mid] as number)) / 2;
  return { n: got.length, of: xs.length, median, min: got[0] ?? null, max: got.at(-1) ?? null };
}

const summary = measures.map((m) => {
  const results = runs.get(m.name) ?? [];
  return {
    measure: m.name,
    title: m.title,
    durations: Object.fromEntries(
      m.durations.map(([k, label]) => [k, { label, ...stat(results.map((r) => r.ms[k])) }]),
    ),
    counts: Object.fromEntries(
      m.counts.map(([k, label]) => [
        k,
        {
          label,
          total: results.reduce((sum, r) => sum + (r.counts[k] ?? 0), 0),
          ...stat(results.map((r) => r.counts[k])),
        },
      ]),
    ),
    // null: no exit within the timeout; "-": the cut never happened (the run failed before).
    ...(m.exits ? { exitCodes: results.map((r) => (r.exitCode === undefined ? "-" : r.exitCode)) } : {}),
    failedCuts: results.filter((r) => r.failures.length > 0).length,
    runs: results,
  };
});

if (values.json) {
  console.log(
    JSON.stringify(
      {
        taskq: version,
        url: ctx.url.replace(/:[^:/@]*@/, ":***@"),
        heartbeat: heartbeatVia,
        cuts,
        timeoutMs,
        measures: summary,
      },
      (_, v: unknown) => (typeof v === "number" && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v),
      2,
    ),
  );
} else {
  const rows: string[][] = [["", "ok", "median", "min", "max"]];
  for (const s of summary) {
    rows.push([s.title, "", "", "", ""]);
    for (const d of Object.values(s.durations))
      rows.push([`  ${d.label}`, `${d.n}/${d.of}`, fmtS(d.median), fmtS(d.min), fmtS(d.max)]);
    for (const c of Object.values(s.counts))
      rows.push([`  ${c.label}`, `${c.n}/${c.of}`, fmtN(c.median), fmtN(c.min), fmtN(c.max)]);
    if (s.exitCodes)
      rows.push(["  exit codes", s.exitCodes.map((c) => (c === null ? "timeout" : String(c))).join(" "), "", "", ""]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  console.log(
    `partition: ${cuts} cut(s) per measure, heartbeat: ${heartbeatVia}, timeout ${fmtS(timeoutMs)} per measure, ${version}`,
  );
  for (const r of rows)
    console.log(
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    );
  const failures = summary.flatMap((s) =>
    s.runs.flatMap((r, i) => r.failures.map((f) => `  ${s.measure} cut ${i + 1}: ${f}`)),
  );
  console.log(
    failures.length === 0
      ? "failures: none"
      : `failures (${summary.reduce((n, s) => n + s.failedCuts, 0)} cut(s)):\n${failures.join("\n")}`,
  );
}
process.exit(summary.some((s) => s.failedCuts > 0) ? 1 : 0);

function fmtS(ms: number | null | undefined): string {
  return typeof ms === "number" ? `${(ms / 1000).toFixed(2)} s` : "-";
}

function fmtN(n: number | null): string {
  return n === null ? "-" : String(n);
}
