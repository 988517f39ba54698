// The tutorial's minimal client (scripts/minimal/tutorial.ts) publishing at a fixed rate, for
// scripts/rate-compare: the same schedule as `taskq bench --rate` (src/bench/rate-schedule.ts:
// task i no earlier than start + (i-1)/rate, a late sender publishes what is due at once) and the
// same figures (src/bench/rate-figures.ts: latency from each task's intended send time to done).
// One publisher on a confirm channel (persistent messages, the confirms waited for once at the
// end, as the tutorial does); W worker processes with prefetch(P) ack each message and write
// "<index> <done time>" per message (batched per event-loop turn). Zero work. Prints one JSON line:
//   {"impl":"amqplib-tutorial","workers":W,"prefetch":P,"target":R,"reached":..,"latencyMs":{..},...}
// Usage: bun scripts/minimal/rate-tutorial.ts --rate R [--duration 10s] [--warmup 1s] [--workers W]
//                                               [--prefetch P] [--queue-type classic|quorum] [--url URL]
//        bun scripts/minimal/rate-tutorial.ts --worker URL QUEUE PREFETCH   (one worker; used by the above)
import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { rateFigures } from "../../src/bench/rate-figures.ts";
import { paced, tasksIn } from "../../src/bench/rate-schedule.ts";
import { sleep } from "../../src/util/clock.ts";
import { mono as now } from "../../src/util/mono.ts"; // the machine-wide clock: workers' and sender's times compare exactly
import { parseDuration } from "../../src/util/duration.ts";

if (process.argv[2] === "--worker") {
  const [url, queue, prefetch] = process.argv.slice(3) as [string, string, string];
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(Number(prefetch));
  now(); // reads libc's clock before the first delivery
  let lines = "";
  const flush = () => {
    process.stdout.write(lines);
    lines = "";
  };
  await channel.consume(queue, (msg) => {
    if (msg === null) process.exit(1);
    // "task <i> ": the body taskq bench sends; the done time is taken once the ack is written, as
    // taskq's worker takes its end (settle acks, then the finish event reads the clock).
    const index = msg.content.toString().split(" ")[1];
    channel.ack(msg);
    const end = now();
    if (lines === "") setImmediate(flush);
    lines += `${index} ${end}\n`;
  });
  process.stdout.write("ready\n");
} else {
  const { values } = parseArgs({
    options: {
      rate: { type: "string" },
      duration: { type: "string", default: "10s" },
      warmup: { type: "string", default: "1s" },
      workers: { type: "string", default: "4" },
      prefetch: { type: "string", default: "1" },
      "queue-type": { type: "string", default: "classic" },
      url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672" },
    },
  });
  const rate = Number(values.rate);
  if (!(rate > 0)) throw new Error("--rate R (tasks per second) is required");
  const workers = Number(values.workers);
  const warmup = tasksIn(parseDuration(values.warmup), rate);
  const total = warmup + Math.max(1, tasksIn(parseDuration(values.duration), rate));
  const queue = `taskq-rate-tutorial-${randomBytes(6).toString("hex")}`;
  const connection = await amqp.connect(values.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(
    queue,
    values["queue-type"] === "quorum" ? { durable: true, arguments: { "x-queue-type": "quorum" } } : { durable: true },
  );

  now(); // reads libc's clock before the schedule starts
  const doneAt = new Float64Array(total + 1);
  let done = 0;
  let duplicates = 0;
  const procs = Array.from({ length: workers }, () =>
    Bun.spawn([process.execPath, import.meta.path, "--worker", values.url, queue, values.prefetch], {
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  // Resolves once the worker says "ready"; fails if it exits first (no hang on a worker that could not connect).
  const follow = async (proc: (typeof procs)[number], ready: () => void) => {
    let rest = "";
    for await (const chunk of proc.stdout) {
      const lines = (rest + Buffer.from(chunk).toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "ready") ready();
        const [i, end] = line.split(" ").map(Number) as [number, number];
        if (!(i >= 1 && i <= total)) continue;
        if (doneAt[i] !== 0) duplicates++;
        else {
          doneAt[i] = end;
          done++;
        }
      }
    }
  };
  await Promise.all(
    procs.map(
      (proc) =>
        new Promise<void>(
          (ready, fail) =>
            void follow(proc, ready).then(() => fail(new Error("a worker exited before it was ready")), fail),
        ),
    ),
  );

  const publishedAt = new Float64Array(total + 1);
  let t0 = 0;
  const clock = {
    now,
    sleep: (ms: number) => sleep(ms),
    turn: () => new Promise<void>((resolve) => setImmediate(resolve)),
  };
  for await (const i of paced(
    total,
    rate,
    (i) => i,
    clock,
    (t) => (t0 = t),
  )) {
    channel.sendToQueue(queue, Buffer.from(`task ${i} `), { persistent: true });
    publishedAt[i] = now();
  }
  await channel.waitForConfirms();
  const deadline = now() + 30_000;
  while (done < total && now() < deadline) await sleep(50);
  for (const proc of procs) proc.kill();
  await channel.deleteQueue(queue);
  await connection.close();
  // One worker per slot, zero work: no busy spans (utilisation 0, as taskq's at zero work).
  const figures = rateFigures({
    rate,
    t0,
    warmup,
    publishedAt,
    doneAt,
    spans: procs.map(() => []),
    depth: [],
    duplicates,
  });
  const { depth: _depth, ...rest } = figures;
  console.log(
    JSON.stringify({
      impl: "amqplib-tutorial",
      workers,
      prefetch: Number(values.prefetch),
      queueType: values["queue-type"],
      ...rest,
    }),
  );
  if (figures.missing > 0) process.exit(1);
}
