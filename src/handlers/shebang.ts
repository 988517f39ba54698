import { accessSync, closeSync, constants, openSync, readSync } from "node:fs";
import { basename } from "node:path";

/**
 * Why the kernel cannot run `file`'s `#!` interpreter, or undefined (no `#!` line, or its
 * interpreter is there). Without it a missing interpreter looks like a missing command
 * (posix_spawn says ENOENT), and `#!/usr/bin/env prog` exits 127 on every task.
 *
 * @example
 * interpreterProblem("./job.sh"); // "its interpreter /usr/bin/nonexistent (#! line) does not exist"
 */
export function interpreterProblem(file: string, path = process.env.PATH): string | undefined {
  const resolved = file.includes("/") ? file : Bun.which(file, path === undefined ? {} : { PATH: path });
  if (resolved === null) return undefined;
  const line = firstLine(resolved);
  if (line === undefined || !line.startsWith("#!")) return undefined;
  // The kernel splits a #! line on spaces and tabs only: a carriage return stays in the name.
  const words = line
    .slice(2)
    .split(/[ \t]+/)
    .filter((w) => w !== "");
  const [interpreter, ...args] = words;
  if (interpreter === undefined || interpreter === "\r") return "its #! line names no interpreter";
  if (interpreter.endsWith("\r")) return crlf(interpreter);
  if (!executable(interpreter))
    return `its interpreter ${interpreter} (#! line) ${exists(interpreter) ? "is not executable" : "does not exist"}`;
  if (basename(interpreter) !== "env") return undefined;
  // `#!/usr/bin/env [-S] prog ...`: env looks prog up on PATH when the task runs.
  const prog = args.find((a) => !a.startsWith("-") && !a.includes("="));
  if (prog === undefined) return undefined;
  if (prog.endsWith("\r")) return crlf(prog);
  if (prog.includes("/") ? executable(prog) : Bun.which(prog, path === undefined ? {} : { PATH: path }) !== null)
    return undefined;
  return `its interpreter ${prog} (#!${words.join(" ")}) is not found${prog.includes("/") ? "" : " on PATH"}`;
}

const crlf = (name: string): string =>
  `its #! line ends in a carriage return (saved with Windows line ends): its interpreter would be '${name.slice(0, -1)}\\r'`;

/** The file's first line (at most 256 bytes: Linux reads no more of a #! line), or undefined if it cannot be read. */
function firstLine(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("utf8");
    const nl = text.indexOf("\n");
    return nl === -1 ? text : text.slice(0, nl);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const executable = (file: string): boolean => can(file, constants.X_OK);
const exists = (file: string): boolean => can(file, constants.F_OK);
function can(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}
