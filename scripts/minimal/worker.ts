// Worker for the minimal amqplib baseline (see baseline.ts): the RabbitMQ
// "work queues" tutorial consumer. Consumes with manual acks, one message at a
// time: sleeps 1 ms per '.' in the body (none: acks at once), acks, and tells
// the parent on stdout: "ready" once consuming, then "<n>" lines, n = messages
// acked since the previous line (one line per event-loop turn, not per message).
// Usage: bun scripts/minimal/worker.ts URL QUEUE PREFETCH
import amqp, { type ConsumeMessage } from "amqplib";
import { countDots } from "../../src/handlers/simulate.ts";
import { sleepPrecisely } from "../../src/util/clock.ts";

const [url, queue, prefetchArg] = process.argv.slice(2);
if (url === undefined || queue === undefined || prefetchArg === undefined) {
  console.error("usage: worker.ts URL QUEUE PREFETCH");
  process.exit(2);
}

const connection = await amqp.connect(url);
const channel = await connection.createChannel();
await channel.assertQueue(queue, { durable: true });
await channel.prefetch(Number(prefetchArg));

let pending = 0;
let flushScheduled = false;
function flush(): void {
  flushScheduled = false;
  process.stdout.write(`${pending}\n`);
  pending = 0;
}

function done(message: ConsumeMessage): void {
  channel.ack(message);
  pending++;
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

// With prefetch > 1, deliveries wait here to be worked one at a time, as the tutorial's worker does.
const waiting: ConsumeMessage[] = [];
let busy = false;
async function work(): Promise<void> {
  busy = true;
  for (let message = waiting.shift(); message; message = waiting.shift()) {
    await sleepPrecisely(countDots(message.content));
    done(message);
  }
  busy = false;
}

await channel.consume(
  queue,
  (message) => {
    if (message === null) {
      console.error("worker: consumer cancelled by the broker");
      process.exit(1);
    }
    if (message.content.length <= 4) return done(message); // zero work: "task"
    waiting.push(message);
    if (!busy) void work();
  },
  { noAck: false },
);

process.stdout.write("ready\n");
