import { isUtf8 } from "node:buffer";
import type { DeadTask } from "../core/admin/dead-list.ts";

/** Characters of a body shown by `dead list` before it is cut. */
const PREVIEW_CHARS = 60;

/**
 * A body as one printable line: UTF-8 text as it is, control characters and
 * bytes that are not UTF-8 escaped (`\n`, `\x1b`, `\xff`), cut after `max` characters.
 */
export function preview(body: Buffer, max = PREVIEW_CHARS): string {
  let out = "";
  let i = 0;
  while (i < body.length) {
    if (out.length >= max) return `${out}…`;
    const b = body[i] as number;
    const size =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const char = size > 0 && i + size <= body.length ? decodeOne(body.subarray(i, i + size)) : undefined;
    if (char === undefined) {
      out += `\\x${hex(b)}`;
      i++;
      continue;
    }
    out += printable(char);
    i += size;
  }
  return out;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
function decodeOne(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };
function printable(char: string): string {
  const escaped = ESCAPES[char];
  if (escaped !== undefined) return escaped;
  const code = char.codePointAt(0) as number;
  if (code < 0x20 || code === 0x7f) return `\\x${hex(code)}`;
  if ((code >= 0x80 && code <= 0x9f) || code === 0x2028 || code === 0x2029)
    return `\\u${code.toString(16).padStart(4, "0")}`;
  return char;
}
const hex = (n: number): string => n.toString(16).padStart(2, "0");

/** One JSON object per dead task: the full body as text, or base64 when it is not UTF-8. */
export function deadTaskJson(task: DeadTask): Record<string, unknown> {
  const text = isUtf8(task.body);
  return {
    id: task.messageId ?? null,
    failedAt: task.failedAt ?? null,
    attempts: task.attempts ?? null,
    exitCode: task.exitCode ?? null,
    signal: task.signal ?? null,
    reason: task.reason ?? null,
    host: task.host ?? null,
    originalQueue: task.originalQueue ?? null,
    stderr: task.stderr ?? null,
    bytes: task.body.length,
    body: text ? task.body.toString("utf8") : null,
    ...(text ? {} : { bodyBase64: task.body.toString("base64") }),
  };
}

const exitText = (task: DeadTask): string =>
  task.signal ? task.signal : typeof task.exitCode === "number" ? `code ${task.exitCode}` : "-";

/** Lines of a dead task's stderr shown under its row in the table (all of it: `--json`). */
const STDERR_LINES = 3;

/** The last non-blank lines of a task's stderr, each one printable line under its row. */
function stderrLines(stderr: string | undefined): string[] {
  const lines = (stderr ?? "").split("\n").filter((l) => l.trim() !== "");
  return lines.slice(-STDERR_LINES).map((l) => `    stderr: ${preview(Buffer.from(l.replace(/\r$/, "")), 120)}`);
}

/** Dead tasks as an aligned table, the body last; under a row, the last lines of its stderr. */
export function deadTable(tasks: DeadTask[]): string[] {
  const rows = [
    ["ID", "FAILED AT", "ATTEMPTS", "EXIT", "REASON", "BODY"],
    ...tasks.map((t) => {
      const body = preview(t.body);
      const size = body.endsWith("…") ? ` (${t.body.length} bytes)` : "";
      return [
        t.messageId ?? "-",
        t.failedAt ?? "-",
        t.attempts === undefined ? "-" : String(t.attempts),
        exitText(t),
        t.reason ?? "-",
        `'${body}'${size}`,
      ];
    }),
  ];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  const line = (row: string[]) =>
    row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join("  ");
  return rows.flatMap((row, i) => [line(row), ...(i === 0 ? [] : stderrLines(tasks[i - 1]?.stderr))]);
}
