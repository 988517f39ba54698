// An HTTP service that enqueues: POST /signup {"email": "..."} answers 202 once the
// broker has confirmed the task (persistent, publisher confirms), 400 on bad input.
// One client for the service's life: one connection and one confirming channel shared by
// every request (reconnected after a loss, a task in flight then sent again).
//
//   node server.mjs          # PORT (default 3000), TASKQ_URL, QUEUE (default "emails")
//   curl -X POST localhost:3000/signup -d '{"email":"ada@example.com"}'
import { createServer } from "node:http";
import { TaskqError, connect, task } from "taskq";

const queue = process.env.QUEUE ?? "emails";
const port = Number(process.env.PORT ?? 3000);
const q = await connect({ queue }); // TASKQ_URL; fails here, before listening, if the broker is not there

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const server = createServer(async (req, res) => {
  const answer = (status, body) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (req.method !== "POST" || req.url !== "/signup") return answer(404, { error: "POST /signup" });
  let email;
  try {
    ({ email } = await readJson(req));
  } catch {
    return answer(400, { error: "the body is not JSON" });
  }
  if (typeof email !== "string" || !email.includes("@") || email.length > 200)
    return answer(400, { error: "email is missing or too long" });
  try {
    // The id is an idempotency key: a client retrying the same signup makes a task with the same
    // message_id, which the worker can recognise. A plain object would be sent as JSON too.
    const id = `welcome-${email.toLowerCase()}`;
    await q.send(task({ email, requestedAt: new Date().toISOString() }, { id, headers: { source: "signup" } }));
    answer(202, { queued: id });
  } catch (err) {
    // exitCode 2: the task itself was refused (a bad option), not the broker: the caller's fault.
    answer(err instanceof TaskqError ? (err.exitCode === 2 ? 400 : 503) : 500, { error: err.message });
  }
});

// PORT=0: a free port of the system's choosing; the line names the one bound.
server.listen(port, () => console.log(`listening on :${server.address().port}, enqueuing to '${queue}'`));
// Stop taking requests, let the sends under way get their confirms, then close the connection.
const stop = () => server.close(() => q.close().then(() => process.exit(0)));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
