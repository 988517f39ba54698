// Side by side, in one run: the taskq client against a minimal amqplib publisher that keeps its
// channel (docs/performance.md, "client"). Needs the taskq package (see README) and a broker.
//   node bench.mjs [ROUNDS]     # TASKQ_URL; prints one JSON line
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";
import { connect } from "taskq";

const url = process.env.TASKQ_URL ?? "amqp://localhost";
const rounds = Number(process.argv[2] ?? 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const queueName = (what) => `taskq-bench-client.${what}.${randomBytes(4).toString("hex")}`;

// 1. Sequential confirmed sends, interleaved one by one (the order of each pair alternating), so both
//    meet the same moment of the machine: each send's latency, 50 pairs a round.
const conn = await amqp.connect(url);
const ch = await conn.createConfirmChannel();
const q1 = queueName("seq");
await ch.assertQueue(q1, { durable: true });
const client = await connect({ url, queue: q1 });
const lat = { client: [], minimal: [] };
const body = Buffer.from(JSON.stringify({ email: "ada@example.com" }));
const sendOne = {
  client: () => client.send({ email: "ada@example.com" }),
  minimal: () =>
    new Promise((resolve, reject) =>
      ch.sendToQueue(q1, body, { persistent: true, contentType: "application/json" }, (e) =>
        e ? reject(e) : resolve(),
      ),
    ),
};
for (let i = 0; i < rounds * 50; i++) {
  for (const who of i % 2 === 0 ? ["client", "minimal"] : ["minimal", "client"]) {
    const t = performance.now();
    await sendOne[who]();
    lat[who].push(performance.now() - t);
  }
}
await client.close();
await ch.deleteQueue(q1);

// 2. 100 concurrent requests, then 25 sequential ones, on the example service and on its minimal twin, in turns:
//    a round is 5 such turns each (a burst of 100 lasts ~50 ms: one alone is at the mercy of the scheduler).
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
async function start(file, port, queue) {
  const child = spawn(process.execPath, [here(file)], {
    env: { ...process.env, PORT: String(port), QUEUE: queue, TASKQ_URL: url },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve) => child.stdout.on("data", (d) => String(d).includes("listening") && resolve()));
  return child;
}
const q2 = queueName("http");
const services = {
  client: await start("server.mjs", 34060, q2),
  minimal: await start("minimal-server.mjs", 34061, q2),
};
const ports = { client: 34060, minimal: 34061 };
const rate = { client: [], minimal: [] };
const post = { client: [], minimal: [] }; // one sequential POST's latency
let n = 0;
for (let r = 0; r < rounds * 10; r++) {
  const who = r % 2 === 0 ? "client" : "minimal";
  const t = performance.now();
  const answers = await Promise.all(
    Array.from({ length: 100 }, () =>
      fetch(`http://127.0.0.1:${ports[who]}/signup`, {
        method: "POST",
        body: JSON.stringify({ email: `u${n++}@x.org` }),
      }),
    ),
  );
  if (answers.some((a) => a.status !== 202)) throw new Error(`${who}: not all 202`);
  rate[who].push(100 / ((performance.now() - t) / 1000));
  for (let i = 0; i < 25; i++) {
    const t1 = performance.now();
    const answer = await fetch(`http://127.0.0.1:${ports[who]}/signup`, {
      method: "POST",
      body: JSON.stringify({ email: `u${n++}@x.org` }),
    });
    await answer.text();
    if (answer.status !== 202) throw new Error(`${who}: ${answer.status}`);
    post[who].push(performance.now() - t1);
  }
}
for (const child of Object.values(services)) child.kill("SIGTERM");
await ch.deleteQueue(q2);
await conn.close();
const p50 = { client: median(lat.client), minimal: median(lat.minimal) };
const rps = { client: median(rate.client), minimal: median(rate.minimal) };
console.log(
  JSON.stringify({
    runtime: process.version,
    rounds,
    sequentialP50Ms: p50,
    p50Ratio: +(p50.client / p50.minimal).toFixed(3),
    concurrent100ReqPerS: rps,
    throughputRatio: +(rps.client / rps.minimal).toFixed(3),
    sequentialPostP50Ms: { client: median(post.client), minimal: median(post.minimal) },
  }),
);
