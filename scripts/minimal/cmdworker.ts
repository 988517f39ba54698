// The hand-written counterpart of `taskq work -- CMD` (issue #11): the tutorial's consumer with
// amqplib, running CMD once per message, one at a time, the body on its stdin; acks after CMD
// exits 0 (else nack, not requeued); prefetch(P). Exits after N messages. scripts/perf times the
// whole process, as it times `taskq work --max-tasks N -- CMD`.
// --detached: each command in a session of its own, as taskq runs it (Bun.spawn's `detached`: a
// terminal's Ctrl+C, a timeout or a second signal then reach the command's whole process tree); on
// a kernel with scheduler autogroups that setsid() costs ~17 us a spawn (scripts/perf shows both).
// Usage: bun scripts/minimal/cmdworker.ts [--detached] URL QUEUE PREFETCH N CMD [ARGS...]
import amqp, { type ConsumeMessage } from "amqplib";

const args = process.argv.slice(2);
const detached = args[0] === "--detached";
if (detached) args.shift();
const [url, queue, prefetch, count, ...cmd] = args;
const n = Number(count);
if (!url || !queue || !Number.isInteger(Number(prefetch)) || !Number.isInteger(n) || n < 1 || cmd.length === 0) {
  console.error("usage: cmdworker.ts [--detached] URL QUEUE PREFETCH N CMD [ARGS...]");
  process.exit(2);
}
const connection = await amqp.connect(url);
const channel = await connection.createChannel();
await channel.prefetch(Number(prefetch));
const waiting: ConsumeMessage[] = [];
let running = false;
let done = 0;

async function drain(): Promise<void> {
  running = true;
  for (let msg = waiting.shift(); msg; msg = waiting.shift()) {
    const proc = Bun.spawn(cmd, { stdin: msg.content, stdout: "inherit", stderr: "inherit", detached });
    if ((await proc.exited) === 0) channel.ack(msg);
    else channel.nack(msg, false, false);
    if (++done === n) {
      await connection.close();
      process.exit(0);
    }
  }
  running = false;
}

await channel.consume(queue, (msg) => {
  if (!msg) return;
  waiting.push(msg);
  if (!running) void drain();
});
