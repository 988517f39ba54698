import { accessSync, constants } from "node:fs";

/** Whether `file` can be run: a name found on PATH, or a path to an executable file. */
export function isRunnable(file: string): boolean {
  if (!file.includes("/")) return Bun.which(file) !== null;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
