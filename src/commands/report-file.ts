import { closeSync, openSync, unlinkSync } from "node:fs";
import { usageError } from "../errors.ts";

const WRITE_ERRORS: Record<string, string> = {
  ENOENT: "no such directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  EROFS: "read-only file system",
};

/**
 * Makes sure the report can be written before any work is done: opens it for
 * appending (which neither truncates an existing file nor needs it to exist).
 * Returns a function that removes it again if this check created it.
 */
export function checkWritable(path: string): () => void {
  let existed = true;
  try {
    closeSync(openSync(path, "r"));
  } catch {
    existed = false;
  }
  try {
    closeSync(openSync(path, "a"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw usageError(`--report '${path}': cannot write it (${WRITE_ERRORS[code] ?? (code || (err as Error).message)})`);
  }
  return () => {
    if (!existed) {
      try {
        unlinkSync(path);
      } catch {}
    }
  };
}
