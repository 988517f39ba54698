import { expect } from "bun:test";
import { ExitCode, TaskqError } from "../../src/errors.ts";

/** Runs `fn`, asserts it threw a usage TaskqError (exit code 2), and returns that error for more checks. */
export function expectUsageError(fn: () => unknown): TaskqError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TaskqError);
  const error = thrown as TaskqError;
  expect(error.exitCode).toBe(ExitCode.usage);
  expect(error.exitCode).toBe(2);
  return error;
}
