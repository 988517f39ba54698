import { hostname } from "node:os";

let cached: string | undefined;

/**
 * This machine's name, for connection names and the headers of dead copies. Where it cannot be
 * read (Deno without --allow-sys throws), "unknown-host": a missing name must never fail a copy,
 * whose publish would otherwise be retried for ever.
 */
export function hostName(): string {
  if (cached === undefined) {
    try {
      cached = hostname();
    } catch {
      cached = "unknown-host";
    }
  }
  return cached;
}
