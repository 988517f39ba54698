import { afterAll, describe, expect, test } from "bun:test";
import { send, work } from "taskq";
import { BROKER_URL, drain, readyCount, trackedQueues, waitFor, withChannel } from "../support/broker.ts";
import { halfSilentProxy } from "../support/half-silent.ts";
import { DropProxy } from "../support/proxy.ts";
import { TaskqProcess, jsonLines, missingSent, runTaskq } from "../support/taskq.ts";

// A path to the broker that goes silent (a cut link, a dead switch): the proxy swallows every byte
// and closes nothing, and new connections through it are accepted and never answered. taskq is
// given the proxy first and the broker straight second (`--url PROXY --url DIRECT`), and must
// notice by its heartbeat (2 s here, so the suite stays quick: noticed 4-6 s after the cut), fail
// over, and lose nothing. The defaults' figures come from scripts/partition, medians over cuts.

const tracked = trackedQueues();
const q = (label: string) => tracked.name(label);
afterAll(() => tracked.deleteAll());

const HEARTBEAT = ["--heartbeat", "2s"];
/** Failover within this of the cut: ~6 s expected at a 2 s heartbeat; room for a loaded CI machine. */
const BOUND_MS = 40_000;

async function withProxy<T>(fn: (proxyUrl: string, proxy: DropProxy) => Promise<T>): Promise<T> {
  const proxy = new DropProxy();
  await proxy.start();
  try {
    return await fn(`amqp://guest:guest@127.0.0.1:${proxy.port}`, proxy);
  } finally {
    proxy.stop();
  }
}

type Report = { id: string; attempt: number; outcome: string; start: number; end: number };

describe("a silent path to the broker (blackholing proxy, then the broker straight)", () => {
  test("work: notices the silence, goes on through the other URL, and the task it held is done again; every task done", async () => {
    const queue = q("part-work");
    const count = 200;
    expect((await runTaskq(["send", "-q", queue, "--count", String(count), "task {i} ."])).code).toBe(0);
    await withProxy(async (proxyUrl, proxy) => {
      const w = new TaskqProcess([
        "work",
        "-q",
        queue,
        "--url",
        proxyUrl,
        "--url",
        BROKER_URL,
        ...HEARTBEAT,
        "--json",
        "--dot-ms",
        "50",
        "--idle-exit",
        "5s",
      ]);
      await waitFor(() => jsonLines<Report>(w.stdout).length >= 20, 30_000, "20 tasks done through the proxy");
      const cutAt = Date.now();
      expect(proxy.blackhole()).toBeGreaterThan(0);
      await waitFor(
        () => jsonLines<Report>(w.stdout).some((r) => r.start > cutAt && r.outcome === "done"),
        BOUND_MS,
        "a task done through the other URL",
      );
      const code = await w.exited;
      expect(code).toBe(0);
      expect(w.stderr).toContain("missed the broker's heartbeats");
      const reports = jsonLines<Report>(w.stdout);
      const done = reports.filter((r) => r.outcome === "done").map((r) => r.id);
      expect(missingSent(done, count)).toEqual([]);
      // At prefetch 1 the silent connection held one task at the cut: the one running (done, its
      // ack swallowed) or, when the cut fell between an ack and the next delivery, that delivery
      // (never seen). The broker requeued it once it noticed, and it was done again through the
      // other URL, as a redelivery: attempt 2.
      expect(reports.some((r) => r.outcome === "done" && r.start > cutAt && r.attempt >= 2)).toBe(true);
    });
    expect(await readyCount(queue)).toBe(0);
  }, 120_000);

  test("send: notices the silence, sends its unconfirmed tasks again through the other URL and exits 0; every task in the queue", async () => {
    const queue = q("part-send");
    const count = 30_000;
    await withProxy(async (proxyUrl, proxy) => {
      const s = new TaskqProcess([
        "send",
        "-q",
        queue,
        "--url",
        proxyUrl,
        "--url",
        BROKER_URL,
        ...HEARTBEAT,
        "--window",
        "64",
        "--count",
        String(count),
        "--json",
      ]);
      await waitFor(
        async () => (await readyCount(queue).catch(() => 0)) >= 3000 || s.proc.exitCode !== null,
        30_000,
        "3000 tasks in the queue",
      );
      expect(s.proc.exitCode).toBeNull(); // the cut must land mid-send
      const cutAt = Date.now();
      proxy.blackhole();
      const code = await s.exited;
      expect(code).toBe(0);
      expect(Date.now() - cutAt).toBeLessThan(BOUND_MS + 30_000);
      expect(s.stderr).toContain("missed the broker's heartbeats");
      expect(jsonLines<{ sent: number; reconnects: number }>(s.stdout)[0]).toMatchObject({
        sent: count,
        reconnects: 1,
      });
    });
    const ids = (await drain(queue)).map((m) => m.properties.messageId as string);
    expect(missingSent(ids, count)).toEqual([]);
  }, 120_000);

  test("dead requeue: notices the silence, goes on through the other URL and exits 0; every dead task back in the queue, the dead queue empty", async () => {
    const queue = q("part-requeue");
    const dead = `${queue}.dead`;
    tracked.name(dead);
    const count = 4000;
    await withChannel(async (ch) => {
      await ch.assertQueue(dead, { durable: true });
      for (let i = 1; i <= count; i++)
        ch.sendToQueue(dead, Buffer.from(`t${i}`), { persistent: true, messageId: `dead-${i}` });
      await ch.assertQueue(dead, { durable: true }); // a round trip after the publishes: they are in
    });
    await withProxy(async (proxyUrl, proxy) => {
      const r = new TaskqProcess([
        "dead",
        "requeue",
        "-q",
        queue,
        "--url",
        proxyUrl,
        "--url",
        BROKER_URL,
        ...HEARTBEAT,
      ]);
      await waitFor(
        async () => (await readyCount(queue).catch(() => 0)) >= 500 || r.proc.exitCode !== null,
        30_000,
        "500 tasks moved",
      );
      expect(r.proc.exitCode).toBeNull();
      proxy.blackhole();
      expect(await r.exited).toBe(0);
      expect(r.stderr).not.toContain("internal error");
      expect(r.stderr).toContain("missed the broker's heartbeats"); // said, not silent for 15 s
    });
    expect(await readyCount(dead)).toBe(0);
    const ids = new Set((await drain(queue)).map((m) => m.properties.messageId as string));
    expect(Array.from({ length: count }, (_, i) => `dead-${i + 1}`).filter((id) => !ids.has(id))).toEqual([]);
  }, 120_000);

  test("a path that answers the handshake and then nothing (every new connection): work gives up at --reconnect-timeout with exit 3, not for ever", async () => {
    const queue = q("part-half-silent");
    const proxy = halfSilentProxy(2000);
    try {
      const w = new TaskqProcess([
        "work",
        "-q",
        queue,
        "--url",
        `amqp://guest:guest@127.0.0.1:${proxy.port}`,
        "--heartbeat",
        "3",
        "--reconnect-timeout",
        "15s",
        "--dot-ms",
        "0",
      ]);
      const code = await Promise.race([w.exited, Bun.sleep(90_000).then(() => "still running")]);
      if (code === "still running") w.kill();
      expect(code).toBe(3);
      expect(w.stderr).toContain("gave up after 15s: every connection was lost again as soon as it was made");
      expect(w.stderr).toMatch(/next try \(1\)/); // each lost open is said, not silent
    } finally {
      proxy.stop(true);
    }
  }, 120_000);

  test("status --watch: notices the silence, says so once, and samples again through the other URL", async () => {
    const queue = q("part-watch");
    expect((await runTaskq(["send", "-q", queue, "one", "two"])).code).toBe(0);
    await withProxy(async (proxyUrl, proxy) => {
      const w = new TaskqProcess([
        "status",
        "-q",
        queue,
        "--url",
        proxyUrl,
        "--url",
        BROKER_URL,
        ...HEARTBEAT,
        "--watch",
        "500ms",
      ]);
      const samples = () => w.stdout.split("\n").filter((l) => l.includes("ready=2"));
      await waitFor(() => samples().length >= 2, 15_000, "two samples through the proxy");
      proxy.blackhole();
      const cutSamples = samples().length;
      await waitFor(() => samples().length > cutSamples + 2, BOUND_MS, "samples again, through the other URL");
      w.kill("SIGINT");
      expect(await w.exited).toBe(0);
      expect(w.stdout).toContain("missed the broker's heartbeats");
      expect(w.stdout.split("\n").filter((l) => l.includes("reconnecting")).length).toBe(1); // said once
    });
  }, 60_000);

  test("the library: send and work with two URLs go on through the other when the first goes silent", async () => {
    const queue = q("part-lib");
    const count = 300;
    await withProxy(async (proxyUrl, proxy) => {
      const url = [proxyUrl, BROKER_URL];
      const sent = await send({
        url,
        queue,
        heartbeat: 2,
        tasks: Array.from({ length: count }, (_, i) => `lib ${i + 1}`),
      });
      expect(sent.sent).toBe(count);
      const done = new Set<string>();
      let reconnected = false;
      const worker = await work(
        {
          url,
          queue,
          heartbeat: 2,
          prefetch: 5,
          idleExitMs: 15_000,
          onEvent: (e) => {
            if (e.type === "reconnected") reconnected = true;
          },
        },
        async (task) => {
          done.add(task.body.toString());
          await Bun.sleep(20);
        },
      );
      await waitFor(() => done.size >= 30, 20_000, "30 tasks done through the proxy");
      proxy.blackhole();
      const summary = await worker.done;
      expect(reconnected).toBe(true);
      expect(summary.reconnects).toBe(1);
      expect(Array.from({ length: count }, (_, i) => `lib ${i + 1}`).filter((b) => !done.has(b))).toEqual([]);
    });
    expect(await readyCount(queue)).toBe(0);
  }, 120_000);
});
