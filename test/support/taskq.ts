import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BROKER_URL } from "./broker.ts";

/** The compiled binary the end-to-end tests drive, as a user would. */
export const TASKQ_BIN = process.env.TASKQ_BIN ?? join(import.meta.dir, "..", "..", "dist", "taskq");

function bin(): string {
  if (!existsSync(TASKQ_BIN)) throw new Error(`${TASKQ_BIN} is missing: run scripts/build (scripts/test does)`);
  return TASKQ_BIN;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `taskq ARGS` to completion. TASKQ_URL points at the test broker unless `env` says otherwise. */
export async function runTaskq(
  args: string[],
  options: { env?: Record<string, string | undefined>; stdin?: Buffer | string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const proc = Bun.spawn([bin(), ...args], {
    env: { ...process.env, TASKQ_URL: BROKER_URL, ...options.env } as Record<string, string>,
    stdin: options.stdin === undefined ? "ignore" : Buffer.from(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  noteMissedHeartbeats(args, options.env ?? {}, stderr);
  return { code, stdout, stderr };
}

/**
 * A taskq at the default heartbeat that missed the broker's heartbeats is a false alarm (nothing in
 * the suite silences a path without choosing a heartbeat of its own): scripts/test counts the lines
 * written to TASKQ_SUITE_HEARTBEATS, as it counts the broker's "missed heartbeats" at 5 s.
 */
function noteMissedHeartbeats(args: string[], env: Record<string, string | undefined>, stderr: string): void {
  const file = process.env.TASKQ_SUITE_HEARTBEATS;
  if (!file || !stderr.includes("missed the broker's heartbeats")) return;
  const chosen = [...args, env.TASKQ_URL ?? "", env.AMQP_URL ?? ""].some(
    (a) => a.startsWith("--heartbeat") || a.includes("heartbeat="),
  );
  if (!chosen)
    appendFileSync(file, `taskq ${args.join(" ")}: ${stderr.split("\n").find((l) => l.includes("heartbeats"))}\n`);
}

/** A long-running taskq (usually `work`) whose output is collected as it comes. */
export class TaskqProcess {
  stdout = "";
  stderr = "";
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly exited: Promise<number>;

  constructor(args: string[], env: Record<string, string | undefined> = {}) {
    this.proc = Bun.spawn([bin(), ...args], {
      env: { ...process.env, TASKQ_URL: BROKER_URL, ...env } as Record<string, string>,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const collect = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this[key] += decoder.decode(chunk, { stream: true });
    };
    const out = collect(this.proc.stdout, "stdout");
    const err = collect(this.proc.stderr, "stderr");
    this.exited = Promise.all([this.proc.exited, out, err]).then(([code]) => {
      noteMissedHeartbeats(args, env, this.stderr);
      return code;
    });
  }

  /**
   * The whole lines of stdout so far. A worker writes its JSON lines in batches larger than a
   * pipe writes at once, so while it runs the text can end inside a line: that part waits.
   */
  get lines(): string[] {
    return completeLines(this.stdout);
  }

  get pid(): number {
    return this.proc.pid;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.proc.kill(signal);
  }

  /** Resolves once stderr says the worker is consuming. */
  async ready(ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!/Waiting for tasks/.test(this.stderr)) {
      if (this.proc.exitCode !== null) throw new Error(`taskq exited early (${this.proc.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`worker not ready after ${ms}ms: ${this.stderr}`);
      await Bun.sleep(25);
    }
  }
}

/** The non-empty lines of `text` that a newline ends (a line still being written is left out). */
function completeLines(text: string): string[] {
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((line) => line.length > 0);
}

/**
 * The lines of a taskq's stdout under `--json` (only JSON lines: a command's output goes to
 * stderr then), each parsed; whole lines only, so it is safe on a worker still writing.
 */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return completeLines(stdout).map((line) => JSON.parse(line) as T);
}

/** Asserts the shape every user error must have: one line, no stack trace. */
export function oneLineError(stderr: string): string {
  const lines = stderr.trim().split("\n");
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${stderr}`);
  if (/\n\s+at |internal error/.test(stderr)) throw new Error(`stack trace on stderr:\n${stderr}`);
  return lines[0] as string;
}

/**
 * The ids one `taskq send` gave its `count` tasks (`<prefix>-1` .. `<prefix>-<count>`) that are
 * not among `ids`: a loss check, where a count would miss a duplicate standing in for a lost one.
 * Fails when `ids` hold ids of more than one send.
 */
export function missingSent(ids: Iterable<string>, count: number): string[] {
  const have = new Set(ids);
  const prefixes = new Set([...have].map((id) => id.slice(0, id.lastIndexOf("-"))));
  if (prefixes.size > 1) throw new Error(`ids of more than one send: ${[...prefixes].join(", ")}`);
  const [prefix = "(none)"] = prefixes;
  return Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`).filter((id) => !have.has(id));
}
