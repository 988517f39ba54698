// The library as users run it, for scripts/perf's Node vs Bun rows: the same file and the same
// compiled package (dist/lib/, built by scripts/pack) on each runtime. Prints one JSON line.
//   <runtime> scripts/minimal/lib-perf.ts send N QUEUE          send N tasks (confirms), tasks/s
//   <runtime> scripts/minimal/lib-perf.ts work N QUEUE PREFETCH  drain N queued zero-work tasks, tasks/s
// Node 22 runs it with --experimental-strip-types. The broker: TASKQ_URL.
import { performance } from "node:perf_hooks";
import process from "node:process";

// Imported by path at run time so that both runtimes load the compiled JavaScript, not src/.
const lib = new URL("../../dist/lib/index.js", import.meta.url).href;
const { send, work } = (await import(lib)) as typeof import("taskq");

const [mode, count, queue, prefetch] = process.argv.slice(2);
const n = Number(count);
if (!queue || !Number.isInteger(n) || n < 1 || (mode !== "send" && mode !== "work")) {
  process.stderr.write("usage: lib-perf.ts send N QUEUE | work N QUEUE PREFETCH\n");
  process.exit(2);
}

function* tasks(): Generator<string> {
  for (let i = 1; i <= n; i++) yield `task ${i}`;
}

const t0 = performance.now();
if (mode === "send") {
  const result = await send({ queue, tasks: tasks() });
  if (result.sent !== n) throw new Error(`sent ${result.sent} of ${n}`);
} else {
  const worker = await work({ queue, prefetch: Number(prefetch ?? 1), maxTasks: n, reportEveryMs: 0 }, async () => {});
  const summary = await worker.done;
  if (summary.done !== n) throw new Error(`done ${summary.done} of ${n}`);
}
const s = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({ mode, runtime: "Bun" in globalThis ? "bun" : `node ${process.versions.node}`, tasks: n, seconds: s, rate: n / s })}\n`,
);
