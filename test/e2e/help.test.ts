import { describe, expect, test } from "bun:test";
import { runTaskq } from "../support/taskq.ts";

// Durations in --help read as they are typed (5m), not as milliseconds (300000), at every depth.
test.each([
  [["work"], "--reconnect-timeout <duration>", "5m"],
  [["work"], "--retry-delay <duration>", "1s"],
  [["work"], "--kill-after <duration>", "5s"],
  [["send"], "--reconnect-timeout <duration>", "1m"],
  [["bench"], "--stall <duration>", "30s"],
  [["dead", "list"], "--connect-timeout <duration>", "5s"],
  [["status"], "--retry-max-delay <duration>", "5m"],
])("taskq %j --help: %s shows (default: %s)", async (command, flag, shown) => {
  const r = await runTaskq([...command, "--help"]);
  expect(r.code).toBe(0);
  // Commander wraps descriptions: join the option's lines up to the next option.
  const text = r.stdout.split(/\n(?=\s{2}-)/).find((block) => block.includes(flag)) ?? "";
  expect(text.replace(/\s+/g, " ")).toContain(`(default: ${shown})`);
});

describe("--version and help, everywhere", () => {
  test.each([
    [["--version"]],
    [["send", "--version"]],
    [["work", "-V"]],
    [["dead", "list", "--version"]],
    [["bench", "-V"]],
    [["status", "-V"]],
  ])("taskq %j prints the version, exit 0", async (argv) => {
    const r = await runTaskq(argv);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+ \(\w+\)$/);
  });

  test.each([[[]], [["dead"]], [["help", "nonexist"]]])(
    "taskq %j (no or unknown subcommand): help on stderr, exit 2",
    async (argv) => {
      const r = await runTaskq(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("Usage: taskq");
    },
  );

  test("taskq help work: the help asked for, exit 0", async () => {
    const r = await runTaskq(["help", "work"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: taskq work");
  });
});

// --url repeats (one per node): its help names the real default, never commander's `(default: [])`.
test.each([[["send"]], [["work"]], [["status"]], [["dead", "list"]], [["dead", "requeue"]], [["bench"]]])(
  "taskq %j --help: --url without '(default: [])'",
  async (command) => {
    const r = await runTaskq([...command, "--help"]);
    expect(r.code).toBe(0);
    const text = r.stdout.split(/\n(?=\s{2}-)/).find((block) => block.includes("--url <url>")) ?? "";
    expect(text.replace(/\s+/g, " ")).toContain("default amqp://guest:guest@localhost:5672)");
    expect(text).not.toContain("(default: [])");
  },
);
