// A minimal amqplib publisher for scripts/perf: N persistent messages ("task 1".."task N", as
// `taskq send --count N` makes them) to a fresh durable queue through a confirm channel, with at
// most WINDOW unconfirmed (--window W), or all at once and waitForConfirms once (--window 0).
// Prints {"impl":"amqplib-publisher","tasks":N,"window":W,"ms":..,"rate":<tasks/s>} and deletes the
// queue. ms: from before the queue is declared to the last confirm (as taskq send --json counts).
// --taskq-properties: each message carries what taskq's tasks carry (a message id, a timestamp), and
// one in 128 is published mandatory, as taskq send publishes: the same broker work per message, so
// the comparison is of the clients alone. --mandatory: every message mandatory (what taskq did before
// RouteCheck; shows what the flag costs the broker).
// Usage: bun scripts/minimal/publisher.ts [--tasks N] [--window W] [--url URL] [--queue Q] [--taskq-properties] [--mandatory]
import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "200000" },
    window: { type: "string", default: "1024" },
    url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672" },
    queue: { type: "string" },
    "taskq-properties": { type: "boolean", default: false },
    mandatory: { type: "boolean", default: false },
  },
});
const tasks = Number(values.tasks);
const window = Number(values.window);
const queue = values.queue ?? `taskq-publisher-${randomBytes(6).toString("hex")}`;
const prefix = `taskq-${randomBytes(8).toString("hex")}`;
const options = (i: number): amqp.Options.Publish => {
  const mandatory = values.mandatory || (values["taskq-properties"] && i % 128 === 1);
  const base: amqp.Options.Publish = mandatory ? { persistent: true, mandatory: true } : { persistent: true };
  return values["taskq-properties"]
    ? { ...base, messageId: `${prefix}-${i}`, timestamp: Math.floor(Date.now() / 1000) }
    : base;
};
const connection = await amqp.connect(values.url);
const started = performance.now();
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, { durable: true });

if (window === 0) {
  for (let i = 1; i <= tasks; i++) channel.sendToQueue(queue, Buffer.from(`task ${i}`), options(i));
  await channel.waitForConfirms();
} else {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failed: unknown;
  const confirmed = (err: unknown) => {
    if (err) failed = err;
    inFlight--;
    if (wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  for (let i = 1; i <= tasks; i++) {
    while (inFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
    inFlight++;
    if (!channel.sendToQueue(queue, Buffer.from(`task ${i}`), options(i), confirmed)) {
      await new Promise<void>((resolve) => channel.once("drain", resolve));
    }
  }
  await channel.waitForConfirms();
  if (failed) throw new Error("a message was nacked");
}
const ms = performance.now() - started;
if (values.queue === undefined) await channel.deleteQueue(queue);
await connection.close();
console.log(
  JSON.stringify({
    impl: "amqplib-publisher",
    tasks,
    window,
    ms: Math.round(ms * 100) / 100,
    rate: Math.round((tasks / ms) * 1000),
  }),
);
