import { queueNameProblem } from "../core/topology/names.ts";
import { usageError } from "../errors.ts";

/**
 * `name` from a library option (`what`: the option, e.g. `queue`), checked by the CLI's rule
 * (names.ts queueNameProblem) before any connection: a usage error naming the option otherwise.
 *
 * @example
 * checkedQueue("", "queue"); // throws TaskqError "queue option: a queue name is 1 to 238 bytes long (...), got 0."
 */
export function checkedQueue(name: string, what: string): string {
  const problem = queueNameProblem(name, `${what} option`);
  if (problem !== undefined) throw usageError(`${what} option: ${problem}`);
  return name;
}
