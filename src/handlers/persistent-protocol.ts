import type { Outcome, Task } from "../core/task.ts";
import { HANDLER_EXIT } from "../core/failures/retry-policy.ts";

/**
 * The persistent handler protocol, version 1 (docs/handlers.md): JSON lines both ways.
 * The handler's first line on stdout is the handshake; then taskq writes one task per line on
 * its stdin and reads one answer per line on its stdout, one task at a time per process.
 * The invariant: an answer belongs to the task whose `seq` it echoes. Each task line carries the
 * process's next seq (1, 2, ...); an answer without it, or with another, is a protocol error,
 * never taken as the answer of the task in flight (a handler answering twice would otherwise
 * have its second answer settle the next task, still running).
 * JSON because every language reads it without a library; the body in base64 so that any bytes
 * survive a line-based pipe.
 */
export const PROTOCOL_VERSION = 1;
export const HANDSHAKE = `taskq-handler ${PROTOCOL_VERSION}`;

/** An answer line longer than this is not the protocol (an answer is a word and a reason). */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** A reason quoted from what the handler wrote: its start, shown as JSON so control bytes stay visible. */
export function quote(text: string, max = 200): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}

/** Header values as JSON can carry them: byte arrays as UTF-8 text, big integers as numbers. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value !== null && typeof value === "object" && (value as { type?: unknown }).type === "Buffer")
    return Buffer.from((value as { data: number[] }).data).toString("utf8");
  return value;
}

/** One task as the line written to the handler's stdin, newline included; `seq` is its number in this process. */
export function taskLine(task: Task, seq: number): string {
  return `${JSON.stringify(
    {
      seq,
      id: task.messageId ?? null,
      attempt: task.attempt,
      queue: task.queue,
      redelivered: task.redelivered,
      headers: task.headers,
      body: task.body.toString("base64"),
    },
    jsonValue,
  )}\n`;
}

/** What a line from the handler says: an outcome, or why it is not the protocol. */
export type Answer = { outcome: Outcome } | { garbage: string };

const DONE: Outcome = Object.freeze({ ok: true });

/** The answer kinds and the exit code each stands for (dead list and `dead purge --exit-code` see it). */
const KINDS: Record<string, number | null> = { failed: null, dead: HANDLER_EXIT.noRetry, later: HANDLER_EXIT.notNow };

/**
 * Parses one answer line (without its newline) to the task numbered `seq`: `{"seq":1,"outcome":"done"}`,
 * or `failed`, `dead` (failed for good, as exit 65) or `later` (not now, as exit 75) with an optional
 * `reason`. A line whose `seq` is missing or another is not this task's answer: garbage.
 */
export function parseAnswer(line: string, seq: number): Answer {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { garbage: `handler wrote a line that is not the protocol: ${quote(text)}` };
  }
  const echoed = (doc as { seq?: unknown } | null)?.seq;
  if (echoed !== seq)
    return {
      garbage: `handler answered ${quote(text)}: "seq" must be ${seq}, the seq of the task it answers`,
    };
  const outcome = (doc as { outcome?: unknown } | null)?.outcome;
  if (outcome === "done") return { outcome: DONE };
  const code = typeof outcome === "string" ? KINDS[outcome] : undefined;
  if (code === undefined || typeof doc !== "object" || doc === null)
    return {
      garbage: `handler answered ${quote(text)}: "outcome" must be "done", "failed", "dead" or "later"`,
    };
  const given = (doc as { reason?: unknown }).reason;
  const reason = typeof given === "string" && given.trim() !== "" ? given : `handler answered ${outcome}`;
  return { outcome: { ok: false, reason, exitCode: code } };
}

/** Whether `line` (without its newline) is the handshake this taskq speaks; else the error to tell. */
export function handshakeProblem(line: string): string | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text === HANDSHAKE) return undefined;
  const version = /^taskq-handler (\S+)$/.exec(text)?.[1];
  if (version !== undefined)
    return `handler speaks protocol ${quote(version)}; this taskq speaks ${PROTOCOL_VERSION} (its first line must be '${HANDSHAKE}')`;
  return `handler's first line is not the handshake '${HANDSHAKE}': it wrote ${quote(text)}`;
}
