import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { work } from "taskq";
import { dial } from "../../src/core/broker/connection.ts";
import { BROKER_PORT, BROKER_URL, readyCount, trackedQueues } from "../support/broker.ts";
import { DropProxy } from "../support/proxy.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

const tracked = trackedQueues();
const q = (label: string) => tracked.name(label);
afterAll(() => tracked.deleteAll());

describe("liveness: heartbeats and the lifecycle around them (shared broker)", () => {
  test("an in-process handler that blocks the event loop past two heartbeats: the broker drops the worker, which reconnects and does the task again", async () => {
    const queue = q("block-loop");
    await runTaskq(["send", "-q", queue, "block", "after"]);
    const seen: string[] = [];
    let blocked = false;
    const worker = await work({ url: BROKER_URL, queue, heartbeat: 1, maxTasks: 3 }, async (task) => {
      const body = task.body.toString();
      seen.push(`${body}:${task.redelivered}`);
      if (body === "block" && !blocked) {
        blocked = true;
        const until = Date.now() + 5000; // five heartbeat intervals with no turn of the loop
        while (Date.now() < until) {}
      }
    });
    const summary = await worker.done;
    // The first run's ack went out on a connection the broker had already closed: the broker gave
    // the task again (redelivered), and the worker, reconnected, did it again. Nothing lost.
    expect(seen).toContain("block:false");
    expect(seen).toContain("block:true");
    expect(seen).toContain("after:false");
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(await readyCount(queue)).toBe(0);
  }, 60_000);

  test("a library program ends as soon as its work does: no timer of taskq's keeps it alive", async () => {
    const queue = q("exits");
    const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "support", "programs", "exits-promptly.ts")], {
      env: { ...process.env, TASKQ_TEST_URL: BROKER_URL, TASKQ_TEST_QUEUE: queue },
      stdout: "pipe",
      stderr: "pipe",
    });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 50_000);
    let finishedAt = 0;
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) if (decoder.decode(chunk).includes("finished")) finishedAt = Date.now();
    const code = await proc.exited;
    clearTimeout(killer);
    expect(code).toBe(0);
    expect(finishedAt).toBeGreaterThan(0);
    // The hand-back wait was 60 s: a timer left behind would hold the process that long.
    expect(Date.now() - finishedAt).toBeLessThan(20_000);
  }, 60_000);

  test("a connection that opens after its attempt timed out is closed, and its errors cannot crash the process", async () => {
    const uncaught: unknown[] = [];
    const note = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", note);
    // Every answer of the broker 3 s late: the attempt (4 s + 0.5 s) gives up before the handshake
    // ends (~9 s: start, tune, open-ok; no 4 s without a byte, so the socket's own idle timeout
    // never fires); the connection then opens anyway, and is reset while its close waits for the
    // close-ok (due ~12 s).
    const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 3000);
    await proxy.start();
    try {
      const err = (await dial(`amqp://guest:guest@127.0.0.1:${proxy.port}`, { timeoutMs: 4000 }).catch(
        (e: unknown) => e,
      )) as Error;
      expect(err.message).toContain("no answer within 4s");
      await Bun.sleep(6000);
      proxy.drop();
      await Bun.sleep(1000);
      expect(uncaught).toEqual([]);
    } finally {
      proxy.stop();
      process.off("uncaughtException", note);
    }
  }, 30_000);

  test("stop() on a worker whose broker went silent, heartbeats off: done within its bounds, not never", async () => {
    const queue = q("stop-silent");
    await runTaskq(["send", "-q", queue, "a", "b", "c"]);
    const proxy = new DropProxy();
    await proxy.start();
    try {
      const worker = await work(
        { url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, queue, heartbeat: 0, prefetch: 1 },
        async () => {
          await Bun.sleep(200);
        },
      );
      await Bun.sleep(100);
      proxy.blackhole();
      const stoppedAt = Date.now();
      worker.stop("signal");
      const ended = await Promise.race([
        worker.done.then(
          () => "done",
          () => "done",
        ),
        Bun.sleep(40_000).then(() => "hung"),
      ]);
      expect(ended).toBe("done");
      console.log(`stop on a silent broker, heartbeats off: done after ${Date.now() - stoppedAt} ms`);
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test("Ctrl+C while the worker's session is being opened (a slow link): it exits cleanly, leaving no consumer behind", async () => {
    const queue = q("stop-opening");
    await runTaskq(["send", "-q", queue, "--count", "5"]);
    // Every answer of the broker held 700 ms: the handshake and the connection's first channel
    // (dial) take ~3 s, then channel, declare, qos and consume take ~0.7 s each: the signal lands
    // while the session is being opened.
    const proxy = new DropProxy(BROKER_PORT, "127.0.0.1", 700);
    await proxy.start();
    try {
      const w = new TaskqProcess([
        "work",
        "-q",
        queue,
        "--url",
        `amqp://guest:guest@127.0.0.1:${proxy.port}`,
        "--dot-ms",
        "0",
      ]);
      await Bun.sleep(4000);
      w.proc.kill("SIGINT");
      const code = await w.exited;
      expect(w.stderr).not.toContain("internal error");
      expect(code).toBe(0);
      // Nothing left consuming: all five are ready for the next worker.
      for (let i = 0; i < 50 && (await readyCount(queue)) < 5; i++) await Bun.sleep(100);
      expect(await readyCount(queue)).toBe(5);
    } finally {
      proxy.stop();
    }
  }, 60_000);
});
