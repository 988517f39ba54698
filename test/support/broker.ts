import amqp from "amqplib";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/** The broker the suite talks to (scripts/test makes sure it answers). */
export const BROKER_URL = process.env.TASKQ_URL ?? "amqp://guest:guest@localhost:5672";

/** BROKER_URL's port, for what connects to the suite's broker by port (test/support/proxy.ts). */
export const BROKER_PORT = Number(new URL(BROKER_URL).port || 5672);

/**
 * The isolated node (scripts/broker NAME) behind BROKER_URL when scripts/test runs the suite on one
 * (TASKQ_SUITE_NODE); unset: the machine's own broker. Invariant: every `rabbitmqctl` a test runs
 * against "the broker" goes through `rabbitmqctlCommand`, so it reaches the node BROKER_URL names.
 */
export const BROKER_NODE = process.env.TASKQ_SUITE_NODE || undefined;

const BROKER_SCRIPT = join(import.meta.dir, "..", "..", "scripts", "broker");

/**
 * The command line of `rabbitmqctl ARGS`: against `node` (NAME@localhost, a 3.10 node of this
 * machine) if given, else against the suite's broker: its isolated node through `scripts/broker
 * ctl` (which knows the node's version and root), or the machine's own.
 */
export function rabbitmqctlCommand(args: string[], node?: string): string[] {
  if (node) return ["rabbitmqctl", "-n", node, ...args];
  if (BROKER_NODE) return [BROKER_SCRIPT, "ctl", BROKER_NODE, ...args];
  return ["rabbitmqctl", ...args];
}

/** Runs a command to its end: what it printed, and its exit code. */
async function captured(command: string[]): Promise<{ out: string; err: string; code: number }> {
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}

/** Runs a rabbitmqctl command line of `args`; its stdout, or throws on a non-zero exit. */
async function ctlOutput(command: string[], args: string[]): Promise<string> {
  const { out, err, code } = await captured(command);
  if (code !== 0) throw new Error(`rabbitmqctl ${args.join(" ")} failed (${code}): ${err.trim()}`);
  return out;
}

/** `rabbitmqctl -q ARGS` against the suite's broker; resolves to its stdout, throws on a non-zero exit. */
export const rabbitmqctl = (...args: string[]): Promise<string> => ctlOutput(rabbitmqctlCommand(["-q", ...args]), args);

/** `rabbitmqctl -q ARGS` against the machine's own broker (5672), whatever the suite's is. */
export const machineRabbitmqctl = (...args: string[]): Promise<string> =>
  ctlOutput(["rabbitmqctl", "-q", ...args], args);

/** `rabbitmqctl -q ARGS` against the suite's broker, synchronously; its exit code. */
export const rabbitmqctlSync = (...args: string[]): number | null =>
  Bun.spawnSync(rabbitmqctlCommand(["-q", ...args]), { stdout: "ignore", stderr: "ignore" }).exitCode;

/** A queue name no other test (or run) uses. */
export function uniqueQueue(label: string): string {
  return `taskq-test.${label}.${randomBytes(4).toString("hex")}`;
}

/** Runs `fn` with a fresh channel; the connection is closed whatever happens. */
export async function withChannel<T>(fn: (ch: amqp.Channel) => Promise<T>, url = BROKER_URL): Promise<T> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    return await fn(ch);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Ready (not unacked) messages in a queue. */
export const readyCount = (queue: string, url = BROKER_URL): Promise<number> =>
  withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, url);

/** Whether a queue exists, by a passive declare (which never creates it). */
export const queueExists = (queue: string, url = BROKER_URL): Promise<boolean> =>
  withChannel(async (ch) => {
    try {
      await ch.checkQueue(queue);
      return true;
    } catch {
      return false; // 404: the broker closed the channel; withChannel closes the connection
    }
  }, url);

/** Takes every ready message off a queue (acking them), in order. */
export function drain(queue: string, url = BROKER_URL): Promise<amqp.GetMessage[]> {
  return withChannel(async (ch) => {
    const out: amqp.GetMessage[] = [];
    for (;;) {
      const msg = await ch.get(queue, { noAck: true });
      if (msg === false) return out;
      out.push(msg);
    }
  }, url);
}

export async function deleteQueues(queues: string[], url = BROKER_URL): Promise<void> {
  await withChannel(async (ch) => {
    for (const q of queues) await ch.deleteQueue(q);
  }, url).catch(() => {});
}

/**
 * Runs a rabbitmqctl listing (list_queues, list_channels...), again up to twice when it fails with 69 or 75: the
 * suite's broker is shared by concurrent shards, and a listing that meets a queue or channel closing at that moment
 * ends with {error, _} (69, EX_UNAVAILABLE) or a timeout (75) though nothing is wrong (seen once in a fresh-clone run).
 */
async function listing(args: string[]): Promise<{ out: string; err: string; code: number }> {
  for (let attempt = 1; ; attempt++) {
    const { out, err, code } = await captured(args);
    if ((code !== 69 && code !== 75) || attempt === 3) return { out, err, code };
    await Bun.sleep(500);
  }
}

/** messages_ready / messages_unacknowledged as the broker itself reports them. */
export async function brokerCounts(queue: string, node?: string): Promise<{ ready: number; unacked: number }> {
  const args = rabbitmqctlCommand(
    ["-q", "list_queues", "name", "messages_ready", "messages_unacknowledged", "--no-table-headers"],
    node,
  );
  const { out: text } = await listing(args);
  for (const line of text.split("\n")) {
    const [name, ready, unacked] = line.trim().split(/\s+/);
    if (name === queue) return { ready: Number(ready), unacked: Number(unacked) };
  }
  throw new Error(`queue ${queue} not listed by rabbitmqctl`);
}

/**
 * `rabbitmqctl -q LIST_COMMAND COLUMN... --no-table-headers` (e.g. list_channels, list_consumers):
 * one array of column values per row listed.
 */
export async function rabbitmqctlRows(list: string, columns: string[], node?: string): Promise<string[][]> {
  const {
    out: text,
    err,
    code,
  } = await listing(rabbitmqctlCommand(["-q", list, ...columns, "--no-table-headers"], node));
  if (code !== 0) throw new Error(`rabbitmqctl ${list} failed (${code}): ${err.trim()}`);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => line.split(/\s+/));
}

/**
 * The channel-wide prefetch (global QoS; 0 when none) of every channel on the broker. RabbitMQ 4.3 has no
 * such column (it denies global QoS and rewrites it per consumer, logging a deprecated feature, which fails the
 * suite: scripts/test): there, no channel has one, and this is empty.
 */
export async function channelWidePrefetches(node?: string): Promise<number[]> {
  const args = rabbitmqctlCommand(["-q", "list_channels", "global_prefetch_count", "--no-table-headers"], node);
  const { out: text, err, code } = await listing(args);
  if (code === 64 && /global_prefetch_count/.test(err)) return []; // 4.3: "Invalid info item"
  if (code !== 0) throw new Error(`rabbitmqctl list_channels failed (${code}): ${err}`);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map(Number);
}

/** Every queue's messages_ready and consumers, as `rabbitmqctl list_queues` reports them (missing queues are not in the map). */
export async function brokerQueues(node?: string): Promise<Map<string, { ready: number; consumers: number }>> {
  const queues = new Map<string, { ready: number; consumers: number }>();
  for (const [name, ready, consumers] of await rabbitmqctlRows(
    "list_queues",
    ["name", "messages_ready", "consumers"],
    node,
  )) {
    if (name) queues.set(name, { ready: Number(ready), consumers: Number(consumers) });
  }
  return queues;
}

/**
 * Polls `check` every `everyMs` until it returns a truthy value or `ms` pass. The way to
 * wait for something to happen: a sleep only guesses how long it takes. `what` may be a
 * function, read at the timeout: the error can then say what was seen last.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  ms = 15_000,
  what: string | (() => string) = "condition",
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms}ms waiting for ${typeof what === "function" ? what() : what}`);
    await Bun.sleep(everyMs);
  }
}

/**
 * Unique queue names for one test file: each comes with its `.dead` queue and
 * any `.retry.<ms>` queues named, and `deleteAll()` removes them all.
 */
export function trackedQueues() {
  const names: string[] = [];
  return {
    name(label: string, retryLevels: readonly number[] = []): string {
      const name = uniqueQueue(label);
      names.push(name, `${name}.dead`, ...retryLevels.map((ms) => `${name}.retry.${ms}`));
      return name;
    },
    /** One more queue to delete at the end (a delay queue, say). */
    also(queue: string): void {
      names.push(queue);
    },
    deleteAll: () => deleteQueues(names),
  };
}
