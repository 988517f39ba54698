// Baseline for benchmarks: a minimal, idiomatic amqplib work queue doing the
// same work as `taskq bench` (the RabbitMQ "work queues" tutorial, nothing
// more). Declares a fresh durable queue, starts W worker processes (worker.ts:
// prefetch P, manual acks, one task at a time, ack when its work is done),
// publishes N persistent messages through a confirm channel with a bounded
// window of unconfirmed messages, and prints one JSON line:
//   {"impl":"amqplib-minimal","tasks":N,"workers":W,"prefetch":P,"work":"0","throughput":<tasks/s>,"ms":<makespan>,"idealMs":..,"efficiency":..}
// throughput = N / (last completion - first publish). With --work the task
// bodies and their durations are exactly taskq bench's (same generator, same
// seed, one '.' per ms) and the worker sleeps with the same precise sleep, so
// the two differ only in the consumer loop. amqplib connection defaults are
// left alone on purpose (no noDelay etc.), as a typical user would.
// Usage: bun scripts/minimal/baseline.ts [--tasks N] [--workers W] [--prefetch P] [--work PROFILE] [--seed S] [--url URL]
import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { idealMakespan } from "../../src/bench/stats.ts";
import { parseProfile, taskBody, taskDurations } from "../../src/bench/workload.ts";

const WINDOW = 1024; // unconfirmed messages allowed in flight
const TIMEOUT_MS = 600_000;

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "20000" },
    workers: { type: "string", default: "4" },
    prefetch: { type: "string", default: "1" },
    work: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672" },
  },
});

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`baseline: --${name} must be a positive integer, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return n;
}
const tasks = positiveInt("tasks", values.tasks);
const workers = positiveInt("workers", values.workers);
const prefetch = positiveInt("prefetch", values.prefetch);
const url = values.url;
let durations: number[];
try {
  durations = taskDurations(parseProfile(values.work), tasks, Number(values.seed));
} catch (err) {
  console.error(`baseline: ${(err as Error).message}`);
  process.exit(2);
}
const zeroWork = durations.every((ms) => ms === 0);
const queue = `taskq-baseline-${randomBytes(6).toString("hex")}`;

const connection = await amqp.connect(url);
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, { durable: true });

// Completions as reported by the workers; resolves at the N-th one.
let done = 0;
let lastDoneAt = 0;
let resolveAllDone!: () => void;
let rejectAllDone!: (err: Error) => void;
const allDone = new Promise<void>((resolve, reject) => {
  resolveAllDone = resolve;
  rejectAllDone = reject;
});

const workerPath = new URL("./worker.ts", import.meta.url).pathname;
const procs = Array.from({ length: workers }, () =>
  Bun.spawn([process.execPath, workerPath, url, queue, String(prefetch)], {
    stdout: "pipe",
    stderr: "inherit",
  }),
);
let stopping = false;

// Reads one worker's stdout; resolves when it says "ready".
function follow(proc: (typeof procs)[number]): Promise<void> {
  return new Promise<void>((resolveReady, rejectReady) => {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of proc.stdout) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === "ready") {
            resolveReady();
            continue;
          }
          done += Number(line);
          lastDoneAt = performance.now();
          if (done >= tasks) resolveAllDone();
        }
      }
      const code = await proc.exited;
      if (!stopping) {
        const err = new Error(`a worker exited early (code ${code})`);
        rejectReady(err);
        rejectAllDone(err);
      }
    })();
  });
}

let exitCode = 0;
try {
  await Promise.all(procs.map(follow));

  // Publish N persistent messages, keeping at most WINDOW unconfirmed.
  let inFlight = 0;
  let wakeUp: (() => void) | undefined;
  const confirmed = (err: unknown) => {
    if (err) rejectAllDone(new Error("a message was nacked by the broker"));
    inFlight--;
    if (wakeUp && inFlight < WINDOW) {
      const wake = wakeUp;
      wakeUp = undefined;
      wake();
    }
  };
  const bodies = durations.map((ms, i) => (zeroWork ? Buffer.from("task") : taskBody(i + 1, ms)));
  const started = performance.now();
  for (let i = 0; i < tasks; i++) {
    if (inFlight >= WINDOW) await new Promise<void>((resolve) => (wakeUp = resolve));
    inFlight++;
    if (!channel.sendToQueue(queue, bodies[i] as Buffer, { persistent: true }, confirmed)) {
      await new Promise<void>((resolve) => channel.once("drain", resolve));
    }
  }
  await channel.waitForConfirms();

  const timeout = setTimeout(() => rejectAllDone(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  await allDone;
  clearTimeout(timeout);
  // Let any stray extra completions (redeliveries) show up before checking.
  await Bun.sleep(100);
  const ms = lastDoneAt - started;
  if (done !== tasks) throw new Error(`workers reported ${done} completions for ${tasks} tasks`);
  const left = await channel.checkQueue(queue);
  if (left.messageCount !== 0) throw new Error(`${left.messageCount} messages left in ${queue}`);

  const idealMs = idealMakespan(durations, workers);
  console.log(
    JSON.stringify({
      impl: "amqplib-minimal",
      tasks,
      workers,
      prefetch,
      work: values.work,
      throughput: Math.round((tasks / ms) * 1000 * 10) / 10,
      ms: Math.round(ms * 10) / 10,
      idealMs: Math.round(idealMs * 10) / 10,
      efficiency: idealMs > 0 ? Math.round((idealMs / ms) * 10000) / 10000 : null,
    }),
  );
} catch (err) {
  console.error(`baseline: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  stopping = true;
  for (const proc of procs) proc.kill();
  await Promise.all(procs.map((proc) => proc.exited));
  try {
    await channel.deleteQueue(queue);
    await connection.close();
  } catch (err) {
    console.error(`baseline: cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
    exitCode = 1;
  }
}
process.exit(exitCode);
