import { afterAll, describe, expect, test } from "bun:test";
import { brokerCounts, drain, trackedQueues } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
const q = (label: string, levels: number[]) => tracked.name(label, levels);
afterAll(() => tracked.deleteAll());

describe("retries with delay, then dead letters", () => {
  test("4. a poison task is retried up to --max-attempts, then dead; it never blocks the others", async () => {
    const queue = q("retry-poison", [100, 200]);
    const h = new TestHandler();
    await runTaskq(["send", "-q", queue, "fail poison", "ok 1", "ok 2", "ok 3"]);
    const r = await runTaskq([
      "work",
      "-q",
      queue,
      "--max-attempts",
      "3",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      ...h.command,
    ]);
    expect(r.code).toBe(0);
    const lines = h.lines();
    const poison = lines.filter((l) => l.body === "fail poison");
    expect(poison.map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(new Set(poison.map((l) => l.id)).size).toBe(1); // the same task each time
    // The others ran once each, all before the poison task's first retry.
    const okBodies = lines.filter((l) => l.body.startsWith("ok")).map((l) => l.body);
    expect(okBodies).toEqual(["ok 1", "ok 2", "ok 3"]);
    expect(lines.findIndex((l) => l.body === "fail poison" && l.attempt === 2)).toBeGreaterThan(
      lines.findIndex((l) => l.body === "ok 3"),
    );
    expect(r.stderr).toMatch(/attempt 1 failed, retry in \d+ms/);
    expect(r.stderr).toMatch(/moved to '.*\.dead' \(failed 3 attempt\(s\) of 3\)/);
    const dead = await drain(`${queue}.dead`);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.properties.headers).toMatchObject({
      "x-taskq-reason": "command exited with code 3",
      "x-taskq-attempts": 3,
      "x-taskq-exit-code": 3,
    });
    expect(await brokerCounts(queue)).toEqual({ ready: 0, unacked: 0 });
  });

  test("5. --timeout kills a hung command (SIGTERM) and the task is retried", async () => {
    const queue = q("retry-timeout", [100]);
    const h = new TestHandler();
    await runTaskq(["send", "-q", queue, "block hung"]);
    const r = await runTaskq([
      "work",
      "-q",
      queue,
      "--timeout",
      "300ms",
      "--max-attempts",
      "2",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      ...h.command,
    ]);
    expect(r.code).toBe(0);
    expect(h.released).toBe(false); // nobody let it finish: the timeout ended it
    expect(h.lines().map((l) => l.attempt)).toEqual([1, 2]);
    expect(r.stderr).toMatch(/timed out after 0\.3s \(killed by SIGTERM\); attempt 1 failed, retry in/);
    const dead = await drain(`${queue}.dead`);
    expect(dead[0]?.properties.headers?.["x-taskq-reason"]).toMatch(/^timed out after 0\.3s/);
    expect(dead[0]?.properties.headers?.["x-taskq-signal"]).toBe("SIGTERM");
  });

  test("exit 65 dead-letters at once; exit 75 retries without counting an attempt", async () => {
    const queue = q("retry-codes", [100]);
    const h = new TestHandler();
    await runTaskq(["send", "-q", queue, "exit 65", "tempfail"]);
    const r = await runTaskq([
      "work",
      "-q",
      queue,
      "--max-attempts",
      "5",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      ...h.command,
    ]);
    expect(r.code).toBe(0);
    const lines = h.lines();
    expect(lines.filter((l) => l.body === "exit 65").map((l) => l.attempt)).toEqual([1]);
    expect(lines.filter((l) => l.body === "tempfail").map((l) => l.attempt)).toEqual([1, 1]);
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.content.toString())).toEqual(["exit 65"]);
  });
});
