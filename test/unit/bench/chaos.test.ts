import { describe, expect, test } from "bun:test";
import { type ChaosSpec, FREEZE_HOLD_MS, chaosText, parseChaos } from "../../../src/bench/chaos.ts";
import { workerUrls } from "../../../src/bench/nodes.ts";
import { expectUsageError } from "../usage-error.ts";

describe("parseChaos", () => {
  test.each<[string, ChaosSpec[]]>([
    ["kill-worker:500ms", [{ kind: "kill-worker", everyMs: 500 }]],
    ["kill-node:3s", [{ kind: "kill-node", everyMs: 3000 }]],
    [
      "kill-worker:2s,kill-node:10s",
      [
        { kind: "kill-worker", everyMs: 2000 },
        { kind: "kill-node", everyMs: 10_000 },
      ],
    ],
    [
      " kill-node:1m , kill-worker:1.5s ",
      [
        { kind: "kill-node", everyMs: 60_000 },
        { kind: "kill-worker", everyMs: 1500 },
      ],
    ],
    ["kill-worker:100", [{ kind: "kill-worker", everyMs: 100 }]],
    // A freeze lasts FREEZE_HOLD_MS whatever the interval: the heartbeat must notice, Erlang must not.
    ["freeze-node:10s", [{ kind: "freeze-node", everyMs: 10_000, holdMs: FREEZE_HOLD_MS }]],
    [
      "kill-node:5s,freeze-node:1m",
      [
        { kind: "kill-node", everyMs: 5000 },
        { kind: "freeze-node", everyMs: 60_000, holdMs: FREEZE_HOLD_MS },
      ],
    ],
  ])("%p", (text, specs) => {
    expect(parseChaos(text)).toEqual(specs);
  });

  test.each([
    ["kill-foo:1s", "'kill-foo' is not a fault taskq can inject"],
    ["", "'' is not a fault"],
    ["kill-worker", "'kill-worker' needs an interval, e.g. kill-worker:2s"],
    ["kill-worker:abc", "'abc' is not a duration"],
    ["kill-worker:", "'' is not a duration"],
    ["kill-worker:-1s", "'-1s' is not a duration"],
    ["kill-worker:0", "the interval must be at least 100ms"],
    ["kill-node:50ms", "the interval must be at least 100ms"],
    ["kill-worker:1s,kill-worker:2s", "kill-worker is given twice"],
    ["kill-worker:1s,", "'' is not a fault"],
    ["KILL-WORKER:1s", "'KILL-WORKER' is not a fault"],
    ["freeze-node", "'freeze-node' needs an interval, e.g. freeze-node:2s"],
    ["freeze-node:10", "the interval must be at least 100ms"],
    ["freeze-node:ten", "'ten' is not a duration"],
    ["freeze-node:10s,freeze-node:20s", "freeze-node is given twice"],
    ["freeze:10s", "'freeze' is not a fault"],
  ])("rejects %p: one line saying why", (text, why) => {
    const error = expectUsageError(() => parseChaos(text));
    expect(error.message).toContain(`--chaos '${text}': ${why}`);
    expect(error.message).toContain("expected any of kill-worker:DURATION, kill-node:DURATION, freeze-node:DURATION");
    expect(error.message).not.toContain("\n");
  });
});

describe("chaosText", () => {
  test.each([
    ["kill-worker:500ms", "kill-worker:500ms"],
    ["kill-worker:2000ms", "kill-worker:2s"],
    ["kill-node:1500ms,kill-worker:60s", "kill-node:1500ms,kill-worker:1m"],
    ["freeze-node:10000ms", "freeze-node:10s"],
  ])("%p reads back as %p", (text, shown) => {
    expect(chaosText(parseChaos(text))).toBe(shown);
    expect(parseChaos(chaosText(parseChaos(text)))).toEqual(parseChaos(text));
  });
});

describe("workerUrls", () => {
  test.each([
    [["a"], 0, "a"],
    [["a"], 3, "a"],
    [["a", "b", "c"], 0, "a,b,c"],
    [["a", "b", "c"], 1, "b,c,a"],
    [["a", "b", "c"], 2, "c,a,b"],
    [["a", "b", "c"], 3, "a,b,c"],
    [["a", "b"], 5, "b,a"],
  ])("%j for worker slot %p: %p", (urls, slot, list) => {
    expect(workerUrls(urls, slot)).toBe(list);
  });
});
