import { Command } from "@commander-js/extra-typings";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import type { BrokerTarget } from "../core/broker/connection.ts";
import type { QueueType } from "../core/topology/names.ts";
import { usageError } from "../errors.ts";
import { formatMs } from "../util/duration.ts";
import { progressBar } from "../util/progress.ts";
import { fileLines } from "../util/lines.ts";
import { DEFAULT_TEMPLATE, compileTemplate } from "../util/template.ts";
import { type BrokerFlags, brokerTarget, withBrokerFlags } from "./broker-flags.ts";
import { duration, intInRange, queueType } from "./parsers.ts";

export interface SendPlan {
  target: BrokerTarget;
  queue: string;
  persistent: boolean;
  /** Unset: adaptive (see SendOptions.window). */
  window?: number;
  json: boolean;
  quiet: boolean;
  queueType: QueueType;
  reconnectTimeoutMs: number;
  /** Each task reaches the queue this much later; 0 = at once. */
  delayMs: number;
  source:
    | { kind: "messages"; messages: string[] }
    | { kind: "count"; template: string; count: number }
    | { kind: "file"; path: string };
}

/** Flags and arguments to one plan; every conflict is a usage error before any connection. */
export function planSend(
  messages: string[],
  flags: BrokerFlags & {
    queueType?: QueueType;
    reconnectTimeout?: number;
    queue: string;
    count?: number;
    file?: string;
    transient?: boolean;
    window?: number;
    delay?: number;
    json?: boolean;
    quiet?: boolean;
  },
): SendPlan {
  if (flags.file !== undefined && (messages.length > 0 || flags.count !== undefined)) {
    throw usageError("--file cannot be combined with MESSAGE arguments or --count");
  }
  if (flags.count !== undefined && messages.length > 1)
    throw usageError("--count takes one MESSAGE template (e.g. 'job {i}'), not several");
  if (messages.some((m) => m.length === 0)) throw usageError("a task body cannot be empty");
  // taskq's bound on a message expiry (2^32 - 1 ms); the broker takes up to 10 years
  // (test/e2e/broker-rules.test.ts).
  if (flags.delay !== undefined && flags.delay > 2 ** 32 - 1)
    throw usageError("--delay must be under 49 days (taskq's longest delay)");
  const source: SendPlan["source"] =
    flags.file !== undefined
      ? { kind: "file", path: flags.file }
      : flags.count !== undefined
        ? { kind: "count", template: messages[0] ?? DEFAULT_TEMPLATE, count: flags.count }
        : { kind: "messages", messages: messages.length > 0 ? messages : ["Hello World!"] };
  return {
    target: brokerTarget(flags),
    queue: flags.queue,
    persistent: !flags.transient,
    ...(flags.window !== undefined ? { window: flags.window } : {}),
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    queueType: flags.queueType ?? "classic",
    reconnectTimeoutMs: flags.reconnectTimeout ?? 60_000,
    delayMs: flags.delay ?? 0,
    source,
  };
}

function* templated(template: string, count: number): Generator<Buffer> {
  const render = compileTemplate(template);
  for (let i = 1; i <= count; i++) yield Buffer.from(render(i));
}

async function* nonEmptyLines(path: string, skipped: { count: number }): AsyncGenerator<Buffer> {
  for await (const line of fileLines(path)) {
    if (line.length === 0) skipped.count++;
    else yield line;
  }
}

export function sendCommand() {
  return withBrokerFlags(new Command("send"))
    .description("publish tasks: persistent and confirmed by the broker")
    .argument("[message...]", "task bodies, one task each (with --count: the body template, {i} = index)")
    .option("-q, --queue <name>", "queue to send to", "task_queue")
    .option(
      "--queue-type <type>",
      "declare the queue as classic (the tutorial's) or quorum (replicated)",
      queueType,
      "classic" as QueueType,
    )
    .option(
      "--reconnect-timeout <duration>",
      "after losing the broker, keep trying this long, then exit 3",
      duration,
      60_000,
    )
    .option("-n, --count <n>", "send N tasks made from the template (at least 1)", intInRange(1))
    .option("-f, --file <path>", "send one task per line of a file ('-' = standard input)")
    .option("--transient", "do not persist tasks to disk (delivery mode 1)")
    .option(
      "--window <n>",
      "most unconfirmed tasks in flight (default: adaptive, 1024 growing to 16384 while confirms lag, under 32 MiB of bodies)",
      intInRange(1, 100_000),
    )
    .option(
      "--delay <duration>",
      "tasks reach the queue this much later (e.g. 10m; through <queue>.delay.<ms>)",
      duration,
    )
    .option("--json", "print the summary as JSON")
    .option("--quiet", "no progress bar and no summary (errors still go to stderr)")
    .action(async (messages, flags) => {
      const plan = planSend(messages, flags);
      const skipped = { count: 0 };
      if (plan.source.kind === "file" && plan.source.path !== "-") {
        const path = plan.source.path;
        const info = await stat(path).catch(() => undefined);
        if (!info) throw usageError(`cannot read --file '${path}': no such readable file`);
        if (info.isDirectory()) throw usageError(`cannot read --file '${path}': it is a directory`);
        await access(path, constants.R_OK).catch(() => {
          throw usageError(`cannot read --file '${path}': permission denied`);
        });
      }
      const bodies =
        plan.source.kind === "file"
          ? nonEmptyLines(plan.source.path, skipped)
          : plan.source.kind === "count"
            ? templated(plan.source.template, plan.source.count)
            : plan.source.messages.map((m) => Buffer.from(m));
      // Loaded here, not at start-up: --help, --version and completions never load the AMQP code.
      const [{ Reconnector, connect }, { sendTasks }] = await Promise.all([
        import("../core/broker/reconnector.ts"),
        import("../core/publish/send-tasks.ts"),
      ]);
      const broker = await connect(plan.target, { name: "taskq send" });
      const total =
        plan.source.kind === "count"
          ? plan.source.count
          : plan.source.kind === "messages"
            ? plan.source.messages.length
            : 0;
      const progress = progressBar({ label: "send", total, enabled: !plan.quiet && !plan.json });
      try {
        const say = (line: string) => process.stderr.write(`taskq send: ${line}\n`);
        const result = await sendTasks(broker, bodies, {
          onPublished: (index) => progress.update(index),
          queue: plan.queue,
          queueType: plan.queueType,
          persistent: plan.persistent,
          ...(plan.window !== undefined ? { window: plan.window } : {}),
          ...(plan.delayMs ? { delayMs: plan.delayMs } : {}),
          reconnector: new Reconnector(plan.target, {
            timeoutMs: plan.reconnectTimeoutMs,
            name: "taskq send",
            onAttempt: (a) => say(`${a.error.message}; next try (${a.attempt}) in ${formatMs(a.delayMs)}`),
          }),
          onEvent: (e) => {
            if (e.type === "disconnected")
              say(`${e.error}; reconnecting (${e.unconfirmed} unconfirmed task(s) will be sent again)`);
            else if (e.type === "reconnected") say(`reconnected; sending ${e.resending} unconfirmed task(s) again`);
            else if (e.type === "blocked") say(`the broker blocks publishing (${e.reason}); waiting`);
            else if (e.type === "legacy-queue")
              say(
                `'${e.queue}' exists with an older taskq's arguments (no x-expires): used as it is; it will not go away by itself`,
              );
            else if (e.type === "queue-type")
              say(
                `'${e.queue}' is a ${e.queueType} queue: using it as ${e.queueType} (pass --queue-type ${e.queueType} to say so)`,
              );
            else say("the broker lifted the block; publishing again");
          },
        });
        const rate = result.ms > 0 ? (result.sent / result.ms) * 1000 : 0;
        progress.stop();
        if (plan.quiet) return;
        // Said, yet exit 0: `find ... | taskq send -f -` finding nothing is not an error.
        if (result.sent === 0 && plan.source.kind === "file")
          say(
            `no tasks ${plan.source.path === "-" ? "on stdin" : `in '${plan.source.path}'`}${skipped.count > 0 ? ` (${skipped.count} blank line(s) skipped)` : ""}: nothing sent`,
          );
        if (plan.json) {
          console.log(
            JSON.stringify({
              sent: result.sent,
              queue: plan.queue,
              persistent: plan.persistent,
              ms: Math.round(result.ms * 100) / 100,
              rate: Math.round(rate),
              resent: result.resent,
              reconnects: result.reconnects,
              skippedBlankLines: skipped.count,
              queueType: result.queueType,
            }),
          );
        } else {
          const blank = skipped.count > 0 ? `, ${skipped.count} blank line(s) skipped` : "";
          const resent =
            result.reconnects > 0 ? `, ${result.resent} re-sent after ${result.reconnects} reconnect(s)` : "";
          console.log(
            `sent ${result.sent} task(s) to '${plan.queue}' in ${formatMs(result.ms)} (${Math.round(rate)} tasks/s), all confirmed${plan.persistent ? "" : ", transient"}${resent}${blank}`,
          );
        }
      } finally {
        progress.stop();
        await broker.close();
      }
    });
}
