// No growth over a long run: a worker and a sender, sampled as they go, must keep their live
// `abort` listeners flat and their heap bounded. Run through scripts/soak (which builds dist/taskq).
//  - worker: --tasks N queued (library send), then one in-process worker (library work, prefetch 50,
//    concurrency 4) where every tenth task throws and goes straight to <queue>.dead (maxAttempts 1);
//    a sample each N/10 tasks settled;
//  - send: one library send of --send-tasks M from an async generator, a sample each M/10 yielded;
//  - cli: `taskq send --count M` as a child process, its VmRSS every 200 ms.
// A sample: a forced GC (Bun.gc(true)), then live `abort` listeners on AbortSignals process-wide,
// heap used, RSS. Exits 1 when a verdict fails.
// Usage: bun scripts/soak.ts [--tasks N] [--send-tasks M] [--only "worker send cli"] [--json]
//          [--lib PATH/src/index.ts] [--taskq PATH]   (--lib, --taskq: another checkout's code)
//          [--plant-leak]   (each failing handler leaves a listener on its signal: shows the count sees one)
// Broker: TASKQ_URL, then AMQP_URL, then amqp://guest:guest@127.0.0.1:5672.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { heapStats } from "bun:jsc";

// ---- live abort listeners, counted before taskq is loaded (it is imported below, dynamically) ----

type Listener = object; // a function, or an object with handleEvent
type ListenerOptions = boolean | { capture?: boolean; once?: boolean; signal?: AbortSignal } | undefined;
type Method = (this: EventTarget, type: string, listener: Listener | null, options?: ListenerOptions) => void;
/** A signal's abort listeners, as the platform keys them (listener, capture); the value: added `once`. */
type Registered = { bubble: Map<Listener, boolean>; capture: Map<Listener, boolean> };

const registered = new WeakMap<EventTarget, Registered>();
const signals = new Set<WeakRef<EventTarget>>(); // pruned as their signals are collected
const proto = AbortSignal.prototype as unknown as { addEventListener: Method; removeEventListener: Method };
const add = proto.addEventListener;
const remove = proto.removeEventListener;
const isCapture = (options: ListenerOptions) => (typeof options === "boolean" ? options : options?.capture === true);

function entriesOf(signal: EventTarget): Registered {
  const r = registered.get(signal);
  if (r) return r;
  const fresh: Registered = { bubble: new Map(), capture: new Map() };
  registered.set(signal, fresh);
  signals.add(new WeakRef(signal));
  // Added first, so it runs first: the platform drops `once` listeners that fire without a removeEventListener.
  add.call(signal, "abort", () => {
    for (const map of [fresh.bubble, fresh.capture]) for (const [l, once] of map) if (once) map.delete(l);
  });
  return fresh;
}

proto.addEventListener = function (this: EventTarget, type, listener, options) {
  const opts = typeof options === "object" ? options : undefined;
  if (type === "abort" && listener && !opts?.signal?.aborted) {
    const map = isCapture(options) ? entriesOf(this).capture : entriesOf(this).bubble;
    if (!map.has(listener)) {
      map.set(listener, opts?.once === true); // adding the same (listener, capture) twice is a no-op
      // `{ signal }`: that signal's abort removes the listener too.
      opts?.signal && add.call(opts.signal, "abort", () => map.delete(listener), { once: true });
    }
  }
  add.call(this, type, listener, options);
};
proto.removeEventListener = function (this: EventTarget, type, listener, options) {
  if (type === "abort" && listener) {
    const r = registered.get(this);
    (isCapture(options) ? r?.capture : r?.bubble)?.delete(listener); // a second remove deletes nothing
  }
  remove.call(this, type, listener, options);
};

/** Abort listeners on signals still alive (call after a GC: a collected signal's listeners are gone with it). */
function liveAbortListeners(): number {
  let live = 0;
  for (const ref of signals) {
    const signal = ref.deref();
    const r = signal && registered.get(signal);
    if (!r) signals.delete(ref);
    else live += r.bubble.size + r.capture.size;
  }
  return live;
}

// ---- flags ----

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "100000" },
    "send-tasks": { type: "string", default: "1000000" },
    only: { type: "string", default: "worker send cli" },
    lib: { type: "string", default: join(import.meta.dir, "..", "src", "index.ts") },
    taskq: { type: "string", default: join(import.meta.dir, "..", "dist", "taskq") },
    json: { type: "boolean", default: false },
    "plant-leak": { type: "boolean", default: false },
  },
});
function usage(message: string): never {
  console.error(`soak: ${message}`);
  process.exit(2);
}
function atLeast10(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 10) usage(`--${name} must be a whole number of at least 10, not '${text}'`);
  return n;
}
const tasks = atLeast10("tasks", values.tasks);
const sendTasks = atLeast10("send-tasks", values["send-tasks"]);
const parts = (values.only ?? "").split(/[\s,]+/).filter(Boolean);
for (const p of parts)
  if (!["worker", "send", "cli"].includes(p)) usage(`--only: unknown part '${p}' (worker, send, cli)`);
if (parts.length === 0) usage("--only names no part");
const url = process.env.TASKQ_URL ?? process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

const { send, work } = (await import(resolve(values.lib ?? ""))) as typeof import("../src/index.ts");
const { deleteQueues, withChannel } = await import("../test/support/broker.ts");

// ---- samples and the verdict ----

/** Samples a run takes (one each tenth); the heap is judged against the one at a fifth (after warm-up). */
const SAMPLES = 10;
const REFERENCE = 1; // index of the sample at 2/10
/**
 * Listeners flat: last − first ≤ 5. A worker holds a few of its own at any moment (one per failed
 * task whose dead copy awaits its confirm: 0-3 measured at concurrency 4); a leak of one per failed
 * task adds N/100 between two samples. Heap bounded: last ≤ 1.5 × the sample at 2/10 + 10 MB. By
 * then the JIT, amqplib's buffers and the prefetch window are warm (the worker's heap after a forced
 * GC then stays within 0.1 MB); the 10 MB is for a send's confirm window, up to 16,384 unconfirmed
 * tasks held, whose fill at a sample is chance (±2 MB measured). So the heap rule catches a leak of
 * ~150 bytes a task at N = 100,000 (12 MB over the last 80,000), ~2.5 KB at 6,000; the listener
 * count is the sharp test for small ones (the per-failure listener fixed in 95d8797 kept ~300 bytes
 * a failed task: +2.5 MB over 100,000 tasks, within the heap rule, 9,000 listeners past it).
 */
const LISTENER_SLACK = 5;
const HEAP_FACTOR = 1.5;
const HEAP_SLACK_MB = 10;

interface Sample {
  count: number;
  listeners: number;
  heapMB: number;
  objects: number;
  rssMB: number;
}
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function sample(count: number): Sample {
  Bun.gc(true);
  const { heapUsed, rss } = process.memoryUsage();
  return {
    count,
    listeners: liveAbortListeners(),
    heapMB: mb(heapUsed),
    objects: heapStats().objectCount,
    rssMB: mb(rss),
  };
}

interface Verdict {
  ok: boolean;
  listenersGrowth: number;
  heapLimitMB: number;
  text: string;
}
function verdict(samples: Sample[]): Verdict {
  const first = samples[0];
  const last = samples.at(-1);
  const ref = samples[REFERENCE] ?? first;
  if (!first || !last || !ref) return { ok: false, listenersGrowth: 0, heapLimitMB: 0, text: "FAIL: no samples" };
  const growth = last.listeners - first.listeners;
  const limit = Math.round((HEAP_FACTOR * ref.heapMB + HEAP_SLACK_MB) * 10) / 10;
  const flat = growth <= LISTENER_SLACK;
  const bounded = last.heapMB <= limit;
  const text = `${flat && bounded ? "OK" : "FAIL"}: abort listeners ${first.listeners} -> ${last.listeners} (${growth >= 0 ? "+" : ""}${growth}, limit +${LISTENER_SLACK}) ${flat ? "flat" : "GROWING"}; heap ${last.heapMB} MB vs limit ${HEAP_FACTOR} x ${ref.heapMB} (at ${ref.count}) + ${HEAP_SLACK_MB} = ${limit} MB ${bounded ? "bounded" : "GROWING"}`;
  return { ok: flat && bounded, listenersGrowth: growth, heapLimitMB: limit, text };
}

function table(what: string, samples: Sample[]): string {
  const rows = samples.map((s) =>
    [s.count, s.listeners, s.heapMB.toFixed(1), s.objects, s.rssMB.toFixed(1)].map(String),
  );
  const head = [what, "abort listeners", "heap MB", "heap objects", "RSS MB"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [head, ...rows].map((r) => `  ${r.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ")}`).join("\n");
}

const freshQueue = (part: string) => `taskq-soak.${part}.${randomBytes(4).toString("hex")}`;
const seconds = (ms: number) => Math.round(ms / 100) / 10;
const messageCount = (queue: string) => withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, url);
const log = (line: string) => values.json || console.log(line);

// ---- the parts ----

async function workerPart() {
  const queue = freshQueue("worker");
  const queues = [queue, `${queue}.dead`, `${queue}.retry.1000`];
  const failing = Math.floor(tasks / 10);
  const samples: Sample[] = [];
  const due = (n: number) => n >= Math.round(((samples.length + 1) * tasks) / SAMPLES);
  try {
    const body = (i: number) => Buffer.from(`${i % 10 === 0 ? "fail" : "task"} ${i}`);
    await send({
      url,
      queue,
      tasks: (function* () {
        for (let i = 1; i <= tasks; i++) yield body(i);
      })(),
    });
    const started = performance.now();
    let settled = 0;
    const worker = await work(
      {
        url,
        queue,
        prefetch: 50,
        concurrency: 4,
        maxTasks: tasks,
        idleExitMs: 10_000,
        retry: { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 1000 },
        onEvent: (e) => {
          if (e.type === "finish" && due(++settled)) samples.push(sample(settled));
        },
      },
      async (task, signal) => {
        if (task.body[0] !== 0x66) return; // "task ..."; "fail ..." throws
        if (values["plant-leak"]) signal.addEventListener("abort", () => {}, { once: true });
        throw new Error("soak: every tenth task fails");
      },
    );
    const summary = await worker.done;
    const ms = performance.now() - started;
    const dead = await messageCount(`${queue}.dead`);
    const left = await messageCount(queue);
    const accounted = summary.done + dead === tasks && summary.failed === dead && left === 0;
    const v = verdict(samples);
    log(
      `worker: ${tasks} tasks (${failing} failing, straight to <queue>.dead${values["plant-leak"] ? ", each leaving a listener: --plant-leak" : ""}), prefetch 50, concurrency 4: ${seconds(ms)} s`,
    );
    log(table("tasks settled", samples));
    log(
      `worker tasks: ${summary.done} done + ${dead} dead = ${summary.done + dead} of ${tasks} sent, ${left} left in the queue: ${accounted ? "all accounted for" : "MISSING"}`,
    );
    log(`worker verdict: ${v.text}`);
    return {
      queue,
      tasks,
      failing,
      done: summary.done,
      failed: summary.failed,
      dead,
      left,
      accounted,
      ms: Math.round(ms),
      samples,
      verdict: v,
      ok: v.ok && accounted,
    };
  } finally {
    await deleteQueues(queues, url);
  }
}

async function sendPart() {
  const queue = freshQueue("send");
  const samples: Sample[] = [];
  const due = (n: number) => n >= Math.round(((samples.length + 1) * sendTasks) / SAMPLES);
  try {
    async function* bodies() {
      for (let i = 1; i <= sendTasks; i++) {
        yield Buffer.from(`task ${i}`);
        if (due(i)) samples.push(sample(i)); // taken when the send asks for the next one
      }
    }
    const started = performance.now();
    const result = await send({ url, queue, tasks: bodies() });
    const ms = performance.now() - started;
    const v = verdict(samples);
    log(`send: one library send of ${sendTasks} tasks (async generator): ${result.sent} confirmed in ${seconds(ms)} s`);
    log(table("tasks yielded", samples));
    log(`send verdict: ${v.text}`);
    return {
      queue,
      tasks: sendTasks,
      sent: result.sent,
      ms: Math.round(ms),
      samples,
      verdict: v,
      ok: v.ok && result.sent === sendTasks,
    };
  } finally {
    await deleteQueues([queue], url);
  }
}

/**
 * CLI send's RSS: the median of the last quarter of samples ≤ 1.25 × the first quarter's + 16 MB.
 * It swings with the adaptive confirm window and Bun's allocator (90-124 MB over a 1,000,000 send,
 * measured), so medians, not the last sample; a growth of 16 bytes a task would pass it.
 */
const CLI_FACTOR = 1.25;
const CLI_SLACK_MB = 16;

async function cliPart() {
  const queue = freshQueue("cli");
  try {
    const started = performance.now();
    const child = Bun.spawn([values.taskq ?? "", "send", "--count", String(sendTasks), "-q", queue, "--quiet"], {
      env: { ...process.env, TASKQ_URL: url },
      stdout: "ignore",
      stderr: "pipe",
    });
    const rss: number[] = [];
    const vmRss = () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) rss.push(Math.round((Number(m[1]) / 1024) * 10) / 10);
    };
    const poll = setInterval(() => {
      try {
        vmRss();
      } catch {
        /* exited */
      }
    }, 200);
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    clearInterval(poll);
    const ms = performance.now() - started;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const quarter = Math.max(1, Math.floor(rss.length / 4));
    const firstQ = median(rss.slice(0, quarter));
    const lastQ = median(rss.slice(-quarter));
    const peak = Math.max(0, ...rss);
    const tenths = Array.from(
      { length: 10 },
      (_, i) => rss[Math.min(rss.length - 1, Math.floor(((i + 0.5) * rss.length) / 10))] ?? 0,
    );
    const limit = Math.round((CLI_FACTOR * firstQ + CLI_SLACK_MB) * 10) / 10;
    const ok = code === 0 && rss.length >= 4 && lastQ <= limit;
    log(
      `cli: taskq send --count ${sendTasks} (exit ${code}) in ${seconds(ms)} s, VmRSS every 200 ms (${rss.length} samples)${code === 0 ? "" : `: ${stderr.trim()}`}`,
    );
    log(`  RSS MB by tenth of the run: ${tenths.join(" ")}`);
    const short = rss.length < 4 ? ` (too short to judge: ${rss.length} samples; raise --send-tasks)` : "";
    log(
      `cli verdict: ${ok ? "OK" : "FAIL"}${short}: peak ${peak} MB; median RSS last quarter ${lastQ} MB vs first quarter ${firstQ} MB (limit ${CLI_FACTOR} x ${firstQ} + ${CLI_SLACK_MB} = ${limit} MB)`,
    );
    return {
      queue,
      tasks: sendTasks,
      code,
      ms: Math.round(ms),
      samples: rss.length,
      peakMB: peak,
      firstQuarterMB: firstQ,
      lastQuarterMB: lastQ,
      limitMB: limit,
      tenthsMB: tenths,
      ok,
    };
  } finally {
    await deleteQueues([queue], url);
  }
}

const report: Record<string, unknown> = { lib: values.lib };
let ok = true;
for (const part of parts) {
  const r = part === "worker" ? await workerPart() : part === "send" ? await sendPart() : await cliPart();
  report[part] = r;
  ok &&= r.ok;
  log("");
}
report.ok = ok;
if (values.json) console.log(JSON.stringify(report));
else
  console.log(ok ? "soak: no growth" : "soak: a verdict failed (growth, tasks missing or a run too short): see above");
process.exit(ok ? 0 : 1);
