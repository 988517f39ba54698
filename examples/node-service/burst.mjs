// CPU per task of the client against bare amqplib, in bursts of 100 concurrent sends (docs/performance.md,
// "A client you keep"). Needs the taskq package (see README) and a broker at TASKQ_URL.
//   node burst.mjs client|minimal     # prints ms per burst and CPU µs per task, 200 bursts
import amqp from "amqplib";
import { connect, task } from "taskq";

const url = process.env.TASKQ_URL ?? "amqp://localhost";
const which = process.argv[2] === "minimal" ? "minimal" : "client";
const queue = `taskq-bench-burst.${process.pid}`;
const conn = await amqp.connect(url);
const ch = await conn.createConfirmChannel();
await ch.assertQueue(queue, { durable: true });
const client = await connect({ url, queue });
let n = 0;
// The example service's message either way: JSON with an id and a source header.
const sendOne = {
  client: () => {
    const email = `u${n++}@x.org`;
    const data = { email, requestedAt: new Date().toISOString() };
    return client.send(task(data, { id: `welcome-${email}`, headers: { source: "signup" } }));
  },
  minimal: () => {
    const email = `u${n++}@x.org`;
    const body = Buffer.from(JSON.stringify({ email, requestedAt: new Date().toISOString() }));
    const options = {
      persistent: true,
      messageId: `welcome-${email}`,
      contentType: "application/json",
      headers: { source: "signup" },
    };
    return new Promise((resolve, reject) => ch.sendToQueue(queue, body, options, (e) => (e ? reject(e) : resolve())));
  },
}[which];
const cpu = process.cpuUsage();
const started = performance.now();
for (let r = 0; r < 200; r++) await Promise.all(Array.from({ length: 100 }, sendOne));
const used = process.cpuUsage(cpu);
console.log(
  which,
  "ms per burst",
  ((performance.now() - started) / 200).toFixed(2),
  "cpu us per task",
  ((used.user + used.system) / 20_000).toFixed(1),
);
await client.close();
await ch.deleteQueue(queue);
await conn.close();
