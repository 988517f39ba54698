// What the partition measures share: the taskq child processes (every line timestamped as it
// arrives), the broker seen directly (amqplib, never through the proxy), the heartbeat passthrough.
import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { readLines } from "../../src/util/lines.ts";
import { DropProxy } from "../../test/support/proxy.ts";

/** Wall clock in ms with a fraction: what taskq's --json `start`/`end` use, so they compare. */
export const now = (): number => performance.timeOrigin + performance.now();

export interface Context {
  /** The binary measured (dist/taskq). */
  taskq: string;
  /** The broker, direct. */
  url: string;
  /** `--heartbeat VALUE` to pass on, or undefined: taskq's defaults, the point of the measure. */
  heartbeat: string | undefined;
  /** Longest wait from a cut for what is measured after it. */
  timeoutMs: number;
  log: (line: string) => void;
}

/** One cut's figures: durations in ms from the cut (null: not seen within the timeout), and counts. */
export interface CutResult {
  ms: Record<string, number | null>;
  counts: Record<string, number>;
  exitCode?: number | null;
  failures: string[];
}

export const freshQueue = (measure: string): string => `taskq-partition.${measure}.${randomBytes(4).toString("hex")}`;

/** A proxy in front of the broker of `url`, and the URL that goes through it. */
export async function proxyFor(url: string): Promise<{ proxy: DropProxy; proxyUrl: string }> {
  const u = new URL(url);
  const proxy = new DropProxy(
    u.port ? Number(u.port) : 5672,
    u.hostname === "localhost" ? "127.0.0.1" : u.hostname.replace(/^\[|\]$/g, ""),
  );
  await proxy.start();
  u.hostname = "127.0.0.1";
  u.port = String(proxy.port);
  return { proxy, proxyUrl: u.toString() };
}

const flagSupport = new Map<string, boolean>();

/**
 * The broker flags of one command: `--url` per URL, and with a heartbeat asked for, `--heartbeat`
 * when the command has it, else `?heartbeat=N` in each URL (whole seconds: amqplib's option).
 */
export async function brokerArgs(ctx: Context, command: string[], urls: string[]): Promise<string[]> {
  if (ctx.heartbeat === undefined) return urls.flatMap((u) => ["--url", u]);
  // A bare number is seconds, as in a URL (the flag reads a bare number as milliseconds).
  if (await hasHeartbeatFlag(ctx.taskq, command))
    return [
      ...urls.flatMap((u) => ["--url", u]),
      "--heartbeat",
      /^\d+$/.test(ctx.heartbeat) ? `${ctx.heartbeat}s` : ctx.heartbeat,
    ];
  const seconds = /^(\d+)s?$/.exec(ctx.heartbeat)?.[1];
  if (seconds === undefined)
    throw new Error(
      `taskq ${command.join(" ")} has no --heartbeat flag, and ?heartbeat= takes whole seconds, not '${ctx.heartbeat}'`,
    );
  return urls.flatMap((u) => {
    const withHb = new URL(u);
    withHb.searchParams.set("heartbeat", seconds);
    return ["--url", withHb.toString()];
  });
}

export async function hasHeartbeatFlag(taskq: string, command: string[]): Promise<boolean> {
  const key = command.join(" ");
  let known = flagSupport.get(key);
  if (known === undefined) {
    const proc = Bun.spawn([taskq, ...command, "--help"], { stdout: "pipe", stderr: "ignore" });
    known = /--heartbeat\b/.test(await new Response(proc.stdout).text());
    await proc.exited;
    flagSupport.set(key, known);
  }
  return known;
}

export interface Line {
  at: number;
  text: string;
}

/** A running taskq: its output as timestamped lines, its exit, a way to stop it for sure. */
export interface Child {
  stdout: Line[];
  stderr: Line[];
  /** Resolves with the exit code (null: killed by a signal) and when it came. */
  exited: Promise<{ code: number | null; at: number }>;
  /** SIGTERM, SIGKILL `graceMs` later if still running; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnTaskq(ctx: Context, args: string[], onStdout?: (line: Line) => void): Child {
  const proc = Bun.spawn([ctx.taskq, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const stdout: Line[] = [];
  const stderr: Line[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>, into: Line[], each?: (line: Line) => void) => {
    for await (const raw of readLines(stream)) {
      const line = { at: now(), text: raw.toString() };
      into.push(line);
      each?.(line);
    }
  };
  const reading = Promise.all([collect(proc.stdout, stdout, onStdout), collect(proc.stderr, stderr)]);
  const exited = proc.exited.then(async (code) => {
    const at = now();
    await reading;
    return { code: proc.signalCode ? null : code, at };
  });
  return {
    stdout,
    stderr,
    exited,
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return void (await exited);
      proc.kill("SIGTERM");
      const kill = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Waits for `cond`, polling; false once `deadline` (epoch ms) passed. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  deadline: number,
  everyMs = 10,
): Promise<boolean> {
  for (;;) {
    if (await cond()) return true;
    if (now() > deadline) return false;
    await Bun.sleep(everyMs);
  }
}

/** A promise or `undefined` once `deadline` passed. */
export async function before<T>(work: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - now()))),
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first stderr line at or after `since`, as ms from it (when taskq said something about the cut). */
export function firstSaid(lines: Line[], since: number, pattern = /./): number | null {
  const line = lines.find((l) => l.at >= since && pattern.test(l.text));
  return line ? line.at - since : null;
}

/** A direct connection to the broker for declaring, counting, filling and emptying queues. */
export class Direct {
  private constructor(
    private readonly connection: amqp.ChannelModel,
    private readonly channel: amqp.ConfirmChannel,
  ) {}

  static async open(url: string): Promise<Direct> {
    const connection = await amqp.connect(url);
    connection.on("error", () => {});
    const channel = await connection.createConfirmChannel();
    channel.on("error", () => {});
    return new Direct(connection, channel);
  }

  /** Declared as taskq declares a work queue or its dead queue (durable, no arguments). */
  async declare(queue: string): Promise<void> {
    await this.channel.assertQueue(queue, { durable: true });
  }

  /** Ready messages (a passive declare: the queue must exist). */
  async ready(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  async publish(queue: string, messages: Array<{ body: Buffer; options: amqp.Options.Publish }>): Promise<void> {
    for (const m of messages) {
      if (!this.channel.sendToQueue(queue, m.body, m.options))
        await new Promise((resolve) => this.channel.once("drain", resolve));
    }
    await this.channel.waitForConfirms();
  }

  /** Takes every ready message off `queue` (no acks): their message ids, in order. */
  async drainIds(queue: string, timeoutMs = 60_000): Promise<string[]> {
    const expected = await this.ready(queue);
    const ids: string[] = [];
    if (expected === 0) return ids;
    const consumer = await this.connection.createChannel();
    consumer.on("error", () => {});
    try {
      let done: () => void = () => {};
      const all = new Promise<void>((resolve) => (done = resolve));
      await consumer.consume(
        queue,
        (msg) => {
          if (!msg) return;
          ids.push(String(msg.properties.messageId ?? ""));
          if (ids.length >= expected) done();
        },
        { noAck: true },
      );
      if ((await before(all, now() + timeoutMs)) === undefined && ids.length < expected) {
        throw new Error(`drained only ${ids.length} of ${expected} messages from ${queue} in ${timeoutMs / 1000} s`);
      }
      return ids;
    } finally {
      await consumer.close().catch(() => {});
    }
  }

  async delete(queues: string[]): Promise<void> {
    for (const q of queues) await this.channel.deleteQueue(q).catch(() => {});
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }
}

/** Which of `expected` ids are missing from `seen`, and how many of `seen` are repeats. */
export function lossAndDuplicates(
  expected: Iterable<string>,
  seen: string[],
): { lost: number; duplicates: number; distinct: number } {
  const distinct = new Set(seen);
  let lost = 0;
  for (const id of expected) if (!distinct.has(id)) lost++;
  return { lost, duplicates: seen.length - distinct.size, distinct: distinct.size };
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One measure of scripts/partition: what it reports (keys of `CutResult.ms` and `.counts`) and how to run one cut. */
export interface Measure {
  name: string;
  title: string;
  durations: Array<[key: string, label: string]>;
  counts: Array<[key: string, label: string]>;
  /** Whether the exit code of the taskq measured is reported (and non-zero is a failure). */
  exits: boolean;
  run(ctx: Context): Promise<CutResult>;
}

/** The last few lines a child wrote to stderr, for a failure message. */
export const tail = (lines: Line[], n = 3): string =>
  lines
    .slice(-n)
    .map((l) => l.text.trim())
    .join(" | ") || "(nothing on stderr)";
