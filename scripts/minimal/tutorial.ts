// The minimal client a person writes from the RabbitMQ tutorial (issue #11), for scripts/perf and
// scripts/compare: one publisher on a confirm channel publishes all N persistent messages and
// waits for the confirms once at the end; W worker processes with prefetch(P) ack each message and
// count; one STOP message per worker at the end. Prints one JSON line:
//   {"impl":"amqplib-tutorial","tasks":N,"workers":W,"prefetch":P,"throughput":<tasks/s>,"ms":..}
// throughput = N / (first publish -> last worker done, as the parent reads it).
// Usage: bun scripts/minimal/tutorial.ts [--tasks N] [--workers W] [--prefetch P] [--url URL]
//        bun scripts/minimal/tutorial.ts --worker URL QUEUE PREFETCH   (one worker; used by the above)
import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

const STOP = "STOP";

if (process.argv[2] === "--worker") {
  const [url, queue, prefetch] = process.argv.slice(3) as [string, string, string];
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(Number(prefetch));
  let count = 0;
  let stopped = false;
  // On its STOP a worker says how many it acked and stops consuming; a second STOP that reached it
  // (prefetch > 1) goes back to the queue for a worker that has none. It stays connected until the
  // parent ends it, so no ack is lost in a close (a lost ack would be a redelivery, counted twice).
  const { consumerTag } = await channel.consume(queue, (msg) => {
    if (msg === null) process.exit(1);
    const stop = msg.content.toString() === STOP;
    if (stop && stopped) return channel.nack(msg, false, true);
    channel.ack(msg);
    if (!stop) return void count++;
    stopped = true;
    process.stdout.write(`done ${count}\n`);
    void channel.cancel(consumerTag);
  });
  process.stdout.write("ready\n");
} else {
  const { values } = parseArgs({
    options: {
      tasks: { type: "string", default: "20000" },
      workers: { type: "string", default: "4" },
      prefetch: { type: "string", default: "1" },
      url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672" },
    },
  });
  const tasks = Number(values.tasks);
  const workers = Number(values.workers);
  const queue = `taskq-tutorial-${randomBytes(6).toString("hex")}`;
  const connection = await amqp.connect(values.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });

  const procs = Array.from({ length: workers }, () =>
    Bun.spawn([process.execPath, import.meta.path, "--worker", values.url, queue, values.prefetch], {
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  let counted = 0;
  let lastDone = 0;
  // Resolves with the worker's "ready", then its "done <count>" time.
  const follow = (proc: (typeof procs)[number]) => {
    const ready = Promise.withResolvers<void>();
    const done = (async () => {
      let text = "";
      for await (const chunk of proc.stdout) {
        text += Buffer.from(chunk).toString();
        if (text.includes("ready\n")) ready.resolve();
        const m = /done (\d+)\n/.exec(text);
        if (m) {
          lastDone = performance.now();
          counted += Number(m[1]);
          return;
        }
      }
      throw new Error("a worker exited early");
    })();
    done.catch(ready.reject);
    return { ready: ready.promise, done };
  };
  const followed = procs.map(follow);
  await Promise.all(followed.map((f) => f.ready));

  const body = Buffer.from("task");
  const started = performance.now();
  for (let i = 0; i < tasks; i++) channel.sendToQueue(queue, body, { persistent: true });
  for (let i = 0; i < workers; i++) channel.sendToQueue(queue, Buffer.from(STOP), { persistent: true });
  await channel.waitForConfirms();
  await Promise.all(followed.map((f) => f.done));
  const ms = lastDone - started;
  for (const proc of procs) proc.kill();
  if (counted !== tasks) throw new Error(`workers counted ${counted} of ${tasks}`);
  await channel.deleteQueue(queue);
  await connection.close();
  console.log(
    JSON.stringify({
      impl: "amqplib-tutorial",
      tasks,
      workers,
      prefetch: Number(values.prefetch),
      throughput: Math.round((tasks / ms) * 1000 * 10) / 10,
      ms: Math.round(ms * 10) / 10,
    }),
  );
}
