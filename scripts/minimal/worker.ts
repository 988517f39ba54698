// Worker for the minimal amqplib baseline (see baseline.ts): the RabbitMQ
// "work queues" tutorial consumer with the work taken out. Consumes with
// manual acks, acks each message as soon as it arrives, and tells the parent
// on stdout: "ready" once consuming, then "<n>" lines, n = messages acked since
// the previous line (one line per event-loop turn, not per message).
// Usage: bun scripts/minimal/worker.ts URL QUEUE PREFETCH
import amqp from "amqplib";

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

await channel.consume(
  queue,
  (message) => {
    if (message === null) {
      console.error("worker: consumer cancelled by the broker");
      process.exit(1);
    }
    channel.ack(message);
    pending++;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  },
  { noAck: false },
);

process.stdout.write("ready\n");
