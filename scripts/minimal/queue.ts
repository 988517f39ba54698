// Deletes a queue (scripts/perf cleans up after `taskq send` runs): bun scripts/minimal/queue.ts delete URL QUEUE
import amqp from "amqplib";

const [command, url, queue] = process.argv.slice(2);
if (command !== "delete" || !url || !queue) {
  console.error("usage: queue.ts delete URL QUEUE");
  process.exit(2);
}
const connection = await amqp.connect(url);
const channel = await connection.createChannel();
await channel.deleteQueue(queue);
await connection.close();
