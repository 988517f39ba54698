import { createInterface } from "node:readline";
import { usageError } from "../errors.ts";

/**
 * Whether a command that deletes tasks may ask on this terminal: with `--yes` it does not ask;
 * without a terminal to ask on it refuses before connecting (a script must say `--yes`).
 */
export function checkCanAsk(command: string, yes: boolean, tty: boolean): void {
  if (!yes && !tty)
    throw usageError(
      `${command} deletes tasks and asks first, but stdin is not a terminal: pass --yes to go ahead without asking`,
    );
}

/** Asks `question` on stderr and reads y/N from the terminal; anything but y or yes is no. */
export async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} [y/N] `, resolve);
      rl.once("close", () => resolve("")); // Ctrl+D: no
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
    process.stdin.pause();
  }
}
