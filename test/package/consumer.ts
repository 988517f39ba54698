/**
 * A user's program against the INSTALLED package (test/e2e/package.test.ts copies it into a fresh
 * project beside node_modules/taskq), run as it is by Node 22 and 24, Bun and Deno 2. Portable on
 * purpose: node: imports for Buffer and process (Deno has no Node globals in user code), type-only
 * imports (type stripping). Prints one JSON line per step; the broker is TASKQ_URL.
 *
 *   consumer.ts main QUEUE     send with confirms (text, bytes, JSON), work with acks, a failure retried then dead-lettered, stop() draining
 *   consumer.ts hold QUEUE     take one task and never finish it (the test kills the process)
 *   consumer.ts take QUEUE     take one task, say whether it was redelivered, stop
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { send, task as taskWith, work, type Task, type WorkerEvent } from "taskq";

const [mode, queue] = process.argv.slice(2);
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const retry = { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 200 };

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function main(queue: string): Promise<void> {
  // Text, bytes, and JSON data with an id of its own (task()): each comes back as it was sent.
  const bodies = ["ok 1", "ok 2", "ok 3", Buffer.from("ok 4"), taskWith({ n: 5 }, { id: "json-5" }), "fail"];
  const sent = await send({ queue, tasks: bodies });
  say({ step: "send", sent: sent.sent, queueType: sent.queueType });

  const done: string[] = [];
  const settled: string[] = [];
  const allSettled = deferred();
  const slowStarted = deferred();
  let slowFinished = false;
  const onEvent = (event: WorkerEvent): void => {
    if (event.type !== "finish") return;
    settled.push(`${event.task.body.toString()}:${event.settled}:${event.task.attempt}`);
    if (done.length === 5 && settled.some((s) => s.startsWith("fail:dead"))) allSettled.resolve();
  };
  const worker = await work({ queue, retry, reportEveryMs: 0, onEvent }, async (task: Task) => {
    const body = task.body.toString();
    if (task.properties.contentType === "application/json") {
      const { n } = task.json<{ n: number }>();
      done.push(`json n=${n} id=${task.messageId}`);
      return;
    }
    if (body === "fail") throw new Error(`no good (attempt ${task.attempt})`);
    if (body === "slow") {
      slowStarted.resolve();
      await new Promise((r) => setTimeout(r, 300));
      slowFinished = true;
      return;
    }
    done.push(body);
  });
  await allSettled.promise;
  say({ step: "work", done: done.sort(), settled: settled.sort() });

  // stop() while a task runs: it finishes and is acked, then done resolves.
  await send({ queue, tasks: ["slow"] });
  await slowStarted.promise;
  worker.stop("signal");
  const summary = await worker.done;
  say({
    step: "drain",
    slowFinished,
    done: summary.done,
    failed: summary.failed,
    retried: summary.retried,
    state: worker.state,
  });
}

async function one(queue: string, hold: boolean): Promise<void> {
  const worker = await work({ queue, reportEveryMs: 0, maxTasks: 1 }, async (task: Task) => {
    say({
      step: hold ? "holding" : "took",
      body: task.body.toString(),
      redelivered: task.redelivered,
      attempt: task.attempt,
    });
    if (hold) await new Promise(() => {}); // never settles: the test kills this process
  });
  const summary = await worker.done;
  say({ step: "stopped", done: summary.done });
}

if (!queue || !["main", "hold", "take"].includes(mode ?? "")) {
  process.stderr.write("usage: consumer.ts main|hold|take QUEUE\n");
  process.exit(2);
}
try {
  if (mode === "main") await main(queue);
  else await one(queue, mode === "hold");
  // No process.exit here: the process must end by itself once the worker has stopped (nothing left open).
} catch (err) {
  say({ step: "error", error: String(err) });
  process.exit(1);
}
