// The baseline bench.mjs measures the example against: the same service on bare amqplib, one
// connection and one confirm channel kept for its life, no reconnect, no checks. Not for use.
import { createServer } from "node:http";
import amqp from "amqplib";

const queue = process.env.QUEUE ?? "emails";
const conn = await amqp.connect(process.env.TASKQ_URL ?? "amqp://localhost");
const ch = await conn.createConfirmChannel();
await ch.assertQueue(queue, { durable: true });

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const { email } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const id = `welcome-${email.toLowerCase()}`;
  const body = Buffer.from(JSON.stringify({ email, requestedAt: new Date().toISOString() }));
  ch.sendToQueue(
    queue,
    body,
    { persistent: true, messageId: id, contentType: "application/json", headers: { source: "signup" } },
    (err) => res.writeHead(err ? 503 : 202, { "content-type": "application/json" }).end(JSON.stringify({ queued: id })),
  );
});
server.listen(Number(process.env.PORT ?? 3001), () => console.log("listening"));
process.on("SIGTERM", () => server.close(() => conn.close().then(() => process.exit(0))));
