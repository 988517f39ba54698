// A worker module: takes the service's tasks, one at a time, each with 10 s to finish.
//
//   node worker.mjs          # TASKQ_URL, QUEUE (default "emails")
//
// Ctrl+C finishes the task in hand, acks it and exits; a second Ctrl+C exits at once (the broker
// gives the unacked task to another worker).
import { work } from "taskq";

const queue = process.env.QUEUE ?? "emails";

/** Sends the welcome mail; here it waits a little, honouring the signal as a real client would. */
async function sendWelcome(email, signal) {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 200);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
  console.log(`welcome mail sent to ${email}`);
}

const worker = await work(
  {
    queue,
    concurrency: 1,
    timeoutMs: 10_000, // past it: the signal aborts, the task is retried, then dead
    onEvent: (e) => {
      if (e.type === "finish" && !e.outcome.ok)
        console.error(`${e.task.messageId}: ${e.outcome.reason} (${e.settled})`);
    },
  },
  async (task, signal) => {
    const { email } = task.json(); // a body that is not JSON goes dead at once, unretried
    // At least once: a task may come again (redelivered, or attempt > 1). Sending is not
    // idempotent here; a real service would check task.messageId against what it already sent.
    if (task.redelivered || task.attempt > 1) console.log(`${task.messageId} again (attempt ${task.attempt})`);
    await sendWelcome(email, signal);
  },
);
console.log(`working '${queue}'`);
let stops = 0;
process.on("SIGINT", () => (++stops === 1 ? worker.stop("signal") : process.exit(130)));
const summary = await worker.done;
console.log(`stopped: ${summary.done} done, ${summary.retried} retried, ${summary.failed} dead`);
