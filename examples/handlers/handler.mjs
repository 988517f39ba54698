#!/usr/bin/env node
// A persistent taskq handler: taskq work --persistent -- node examples/handlers/handler.mjs
import { createInterface } from "node:readline";

async function handle(task, body) {
  // Your work. Throw an error with .forGood = true for a task that can never succeed.
  if (body.toString().startsWith("fail")) throw new Error("asked to fail");
  console.error(`task ${task.id} attempt ${task.attempt}: ${body.length} bytes`);
}

// Echoes the task's seq: the answer is that task's.
const answer = (task, outcome, reason = "") =>
  process.stdout.write(`${JSON.stringify({ seq: task.seq, outcome, reason })}\n`);

// Slow set-up (imports, connections, models) goes here, once per process.
console.log("taskq-handler 1"); // the handshake: ready for tasks
for await (const line of createInterface({ input: process.stdin })) {
  // one task per line, one at a time; the input's end means exit
  const task = JSON.parse(line);
  try {
    await handle(task, Buffer.from(task.body, "base64"));
    answer(task, "done");
  } catch (err) {
    answer(task, err.forGood ? "dead" : "failed", String(err?.message ?? err));
  }
}
