import { expect, test } from "bun:test";
import { runTaskq } from "../support/taskq.ts";

// Durations in --help read as they are typed (5m), not as milliseconds (300000), at every depth.
test.each([
  [["work"], "--reconnect-timeout <duration>", "5m"],
  [["work"], "--retry-delay <duration>", "1s"],
  [["work"], "--kill-after <duration>", "5s"],
  [["send"], "--reconnect-timeout <duration>", "1m"],
  [["bench"], "--stall <duration>", "30s"],
  [["dead", "list"], "--connect-timeout <duration>", "5s"],
])("taskq %j --help: %s shows (default: %s)", async (command, flag, shown) => {
  const r = await runTaskq([...command, "--help"]);
  expect(r.code).toBe(0);
  // Commander wraps descriptions: join the option's lines up to the next option.
  const text = r.stdout.split(/\n(?=\s{2}-)/).find((block) => block.includes(flag)) ?? "";
  expect(text.replace(/\s+/g, " ")).toContain(`(default: ${shown})`);
});
