import { describe, expect, test } from "bun:test";
import { planDead } from "../../../src/commands/dead-plan.ts";
import { planPurge } from "../../../src/commands/purge.ts";
import { planRemove } from "../../../src/commands/remove-plan.ts";

const broker = { url: ["amqp://localhost"], connectTimeout: 5000 };
const removeFlags = { ...broker, queue: "jobs", retryDelay: 1000, retryMaxDelay: 300_000, management: true };

describe("planPurge", () => {
  test.each<[string, { yes?: boolean }, boolean, string | null]>([
    ["a terminal: asks", {}, true, null],
    ["--yes, no terminal", { yes: true }, false, null],
    ["no terminal, no --yes", {}, false, "pass --yes"],
  ])("%s", (_label, flags, tty, error) => {
    const run = () => planPurge({ ...broker, queue: "jobs", ...flags }, tty);
    if (error === null) expect(run()).toMatchObject({ queue: "jobs", yes: flags.yes ?? false });
    else expect(run).toThrow(error);
  });
});

describe("planRemove", () => {
  test.each<[string, Record<string, unknown>, boolean, string | RegExp | null]>([
    ["defaults on a terminal", {}, true, null],
    ["--dry-run needs no terminal", { dryRun: true }, false, null],
    ["no terminal, no --yes", {}, false, "pass --yes"],
    ["retry max under retry delay", { retryMaxDelay: 500 }, true, "--retry-max-delay must be at least --retry-delay"],
    ["a bad management URL", { managementUrl: "ftp://x" }, true, /--management-url must be http/],
    [
      "--management-url with --no-management",
      { managementUrl: "http://x:15672", management: false },
      true,
      "--management-url and --no-management contradict each other",
    ],
  ])("%s", (_label, flags, tty, error) => {
    const run = () => planRemove({ ...removeFlags, ...flags }, tty);
    if (error === null)
      expect(run()).toMatchObject({ queue: "jobs", retry: { baseDelayMs: 1000 }, management: undefined });
    else expect(run).toThrow(error);
  });

  test("--no-management and --force", () => {
    expect(planRemove({ ...removeFlags, management: false, force: true, yes: true }, false)).toMatchObject({
      management: false,
      force: true,
      yes: true,
    });
  });
});

describe("planDead", () => {
  test("selectors become one selector; purge asks unless --yes or --dry-run", () => {
    const plan = planDead(
      { ...broker, queue: "jobs", id: "m-1", reason: "code 3", exitCode: 3, olderThan: 60_000, yes: true },
      true,
      false,
    );
    expect(plan.selector).toEqual({ id: "m-1", reason: "code 3", exitCode: 3, olderThanMs: 60_000 });
    expect(() => planDead({ ...broker, queue: "jobs" }, true, false)).toThrow("pass --yes");
    expect(planDead({ ...broker, queue: "jobs", dryRun: true }, true, false).dryRun).toBe(true);
    expect(planDead({ ...broker, queue: "jobs" }, false, false).selector).toEqual({});
    expect(() => planDead({ ...broker, queue: "jobs", reason: "" })).toThrow("--reason cannot be empty");
  });
});
