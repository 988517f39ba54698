/**
 * An in-process worker with taskq as a library: sends five tasks, works them
 * with a TypeScript handler (one fails once and is retried), then stops.
 *
 *   bun examples/in-process.ts            # queue from EXAMPLE_QUEUE, or "taskq_example"
 */
import { send, work } from "taskq";

const queue = process.env.EXAMPLE_QUEUE ?? "taskq_example";

await send({ queue, tasks: ["resize 1.png", "resize 2.png", "flaky 3.png", "resize 4.png", "resize 5.png"] });

const seen = new Set<string>();
const worker = await work(
  { queue, idleExitMs: 1500, retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 } },
  async (task) => {
    const body = task.body.toString();
    if (body.startsWith("flaky") && !seen.has(body)) {
      seen.add(body);
      throw new Error(`${body}: not this time`); // retried after ~100 ms
    }
    console.log(`done: ${body} (attempt ${task.attempt})`);
  },
);
process.on("SIGINT", () => worker.stop("signal"));
const summary = await worker.done;
console.log(`summary: ${summary.done} done, ${summary.retried} retried, ${summary.failed} dead`);
