import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { work } from "taskq";
import { ANSWER_TIMEOUT_MS } from "../../src/core/broker/liveness.ts";
import { BROKER_URL, trackedQueues, waitFor, withChannel } from "../support/broker.ts";
import { halfSilentProxy } from "../support/half-silent.ts";
import { TaskqProcess, jsonLines, runTaskq } from "../support/taskq.ts";

// `--url SILENT --url BROKER`, where SILENT answers the AMQP handshake (through connection.open-ok)
// and then nothing: every connection taskq opens, whatever opens it (work's first session, its
// retry copies, an admin command, the library), must go on to the next address once the answer
// bound (ANSWER_TIMEOUT_MS) has passed, and never come back to the silent one first.

const tracked = trackedQueues();
const q = (label: string, retryLevels: number[] = []) => tracked.name(label, retryLevels);
afterAll(() => tracked.deleteAll());

/** Failover within this: the answer bound, then the next address (a backoff of ~0.1 s); room for a loaded machine. */
const FAILOVER_MS = ANSWER_TIMEOUT_MS + 8_000;

type Line = { id: string; attempt: number; outcome: string };

async function withSilent<T>(
  cutMs: number,
  fn: (url: string, proxy: ReturnType<typeof halfSilentProxy>) => Promise<T>,
): Promise<T> {
  const proxy = halfSilentProxy(cutMs);
  try {
    return await fn(`amqp://guest:guest@127.0.0.1:${proxy.port}`, proxy);
  } finally {
    proxy.stop(true);
  }
}

describe("a first --url that answers the handshake and then nothing", () => {
  test("work --url SILENT --url BROKER (heartbeats off: the answer bound alone): consumes from the broker within the bound", async () => {
    const queue = q("silent-work");
    expect((await runTaskq(["send", "-q", queue, "one"])).code).toBe(0);
    await withSilent(0, async (url, proxy) => {
      const started = performance.now();
      const w = new TaskqProcess([
        "work",
        "-q",
        queue,
        "--url",
        url,
        "--url",
        BROKER_URL,
        "--heartbeat",
        "0",
        "--max-tasks",
        "1",
        "--json",
      ]);
      const doneLine = () => jsonLines<Line>(w.stdout).find((l) => l.outcome === "done");
      await Promise.race([waitFor(doneLine, 60_000, "the task done").catch(() => undefined), w.exited]);
      const ms = performance.now() - started;
      const code = await w.exited;
      const done = doneLine();
      const exitMs = performance.now() - started;
      console.log(
        `work --url SILENT --url BROKER: task done after ${Math.round(ms)} ms, exit ${code} after ${Math.round(exitMs)} ms`,
      );
      expect(w.stderr).not.toContain("internal error");
      expect([code, done?.outcome]).toEqual([0, "done"]);
      expect(proxy.connections()).toBe(1); // the silent address was tried first, by the session alone
      expect(ms).toBeLessThan(FAILOVER_MS);
      // The worker's reports' connection skipped the address its session found silent: the stop
      // did not wait for it to find out again.
      expect(exitMs - ms).toBeLessThan(5000);
    });
  }, 90_000);

  test("work whose copies' connection gets the silent address (its session's got through): the retry copy goes out through the second URL, attempt 2 runs", async () => {
    const queue = q("silent-copies", [100]);
    const dir = mkdtempSync(join(tmpdir(), "taskq-silent-"));
    const script = join(dir, "first-fails.sh");
    writeFileSync(script, '#!/bin/sh\ncat >/dev/null\n[ "$TASKQ_ATTEMPT" = 1 ] && exit 3\nexit 0\n');
    chmodSync(script, 0o755);
    expect((await runTaskq(["send", "-q", queue, "flaky"])).code).toBe(0);
    // The proxy's first connection (the worker's session) works for good; every later one (the
    // copies'; no reports) is silent after the handshake.
    await withSilent(Number.POSITIVE_INFINITY, async (url, proxy) => {
      const w = new TaskqProcess([
        "work",
        "-q",
        queue,
        "--url",
        url,
        "--url",
        BROKER_URL,
        "--json",
        "--max-attempts",
        "2",
        "--retry-delay",
        "100ms",
        "--max-tasks",
        "2",
        "--report-every",
        "0",
        "--",
        script,
      ]);
      try {
        const lines = () => jsonLines<Line>(w.stdout);
        await w.ready(30_000); // consuming: attempt 1 runs and fails at once (its outcome line waits for the copy)
        const readyAt = performance.now();
        await Promise.race([
          waitFor(() => lines().find((l) => l.attempt === 2), 60_000, "attempt 2").catch(() => undefined),
          w.exited,
        ]);
        const ms = performance.now() - readyAt;
        const second = lines().find((l) => l.attempt === 2);
        console.log(
          `copies past a silent first URL: attempt 2 ${second ? "done" : "not done"} ${Math.round(ms)} ms after the worker consumed; ${proxy.connections()} connection(s) to the silent URL; stderr: ${JSON.stringify(w.stderr.slice(-400))}`,
        );
        expect(w.stderr).not.toContain("internal error");
        expect(second?.outcome).toBe("done");
        expect(proxy.connections()).toBe(2); // the copies' connection tried the silent address first, once
        expect(ms).toBeLessThan(FAILOVER_MS);
        expect(await w.exited).toBe(0);
      } finally {
        w.kill("SIGKILL");
      }
    });
  }, 120_000);

  test("dead list --url SILENT --url BROKER: lists the dead tasks from the broker", async () => {
    const queue = q("silent-dead");
    await withChannel(async (ch) => {
      await ch.assertQueue(`${queue}.dead`, { durable: true });
      ch.sendToQueue(`${queue}.dead`, Buffer.from("gone"), { persistent: true, messageId: "d1" });
      await ch.checkQueue(`${queue}.dead`);
    });
    await withSilent(0, async (url, proxy) => {
      const started = performance.now();
      const r = await runTaskq(["dead", "list", "-q", queue, "--url", url, "--url", BROKER_URL, "--json"], {
        timeoutMs: 60_000,
      });
      const ms = performance.now() - started;
      console.log(`dead list --url SILENT --url BROKER: exit ${r.code} after ${Math.round(ms)} ms`);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(jsonLines<{ id: string; body: string }>(r.stdout).map((t) => [t.id, t.body])).toEqual([["d1", "gone"]]);
      expect(proxy.connections()).toBe(1);
      expect(ms).toBeLessThan(FAILOVER_MS);
    });
  }, 90_000);

  test("status --url SILENT --url BROKER: the queue's status from the broker", async () => {
    const queue = q("silent-status");
    expect((await runTaskq(["send", "-q", queue, "a", "b"])).code).toBe(0);
    await withSilent(0, async (url) => {
      const started = performance.now();
      const r = await runTaskq(
        ["status", "-q", queue, "--url", url, "--url", BROKER_URL, "--no-management", "--json"],
        { timeoutMs: 60_000 },
      );
      const ms = performance.now() - started;
      console.log(`status --url SILENT --url BROKER: exit ${r.code} after ${Math.round(ms)} ms`);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ queue, ready: 2 });
      expect(ms).toBeLessThan(FAILOVER_MS);
    });
  }, 90_000);

  test("the library's work() with [SILENT, BROKER]: consumes from the broker within the bound", async () => {
    const queue = q("silent-lib");
    expect((await runTaskq(["send", "-q", queue, "lib"])).code).toBe(0);
    await withSilent(0, async (url) => {
      const started = performance.now();
      const seen: string[] = [];
      const worker = await work(
        { url: [url, BROKER_URL], queue, heartbeat: 0, maxTasks: 1, reportEveryMs: 0 },
        async (task) => void seen.push(task.body.toString()),
      );
      await worker.done;
      const ms = performance.now() - started;
      console.log(`library work([SILENT, BROKER]): done after ${Math.round(ms)} ms`);
      expect(seen).toEqual(["lib"]);
      expect(ms).toBeLessThan(FAILOVER_MS);
    });
  }, 90_000);
});
