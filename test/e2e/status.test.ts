import { afterAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { BROKER_URL, brokerCounts, brokerQueues, queueExists, trackedQueues, waitFor } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { DropProxy } from "../support/proxy.ts";
import { TASKQ_BIN, TaskqProcess, oneLineError, runTaskq } from "../support/taskq.ts";
import { Terminal } from "../support/tmux.ts";

const queues = trackedQueues();
const terminals: Terminal[] = [];
afterAll(async () => {
  for (const t of terminals) await t.close();
  await queues.deleteAll();
});

const RETRY_60S = 60_000;

/** Queues of the broker whose names start with `queue` (the queue itself, its retry and dead queues). */
async function queuesNamed(queue: string): Promise<string[]> {
  return [...(await brokerQueues()).keys()].filter((name) => name === queue || name.startsWith(`${queue}.`)).sort();
}

const lines = (text: string) => text.trim().split("\n").filter(Boolean);

describe("taskq status", () => {
  test("counts agree with rabbitmqctl list_queues for ready, retrying and dead tasks and a consumer; the dead head stays put", async () => {
    const queue = queues.name("status-counts", [RETRY_60S]);
    const h = new TestHandler();
    // Two tasks fail and wait 60s in <queue>.retry.60000; two ask not to be retried (exit 65) and die at once.
    expect((await runTaskq(["send", "-q", queue, "fail a", "exit 65", "fail b", "exit 65"])).code).toBe(0);
    const work = await runTaskq([
      "work",
      "-q",
      queue,
      "--max-tasks",
      "4",
      "--max-attempts",
      "2",
      "--retry-delay",
      "60s",
      ...h.command,
    ]);
    expect(work.code).toBe(0);
    expect((await runTaskq(["send", "-q", queue, "--count", "5"])).code).toBe(0);

    // A consumer holding one task unacked: status counts it as a consumer, not as ready.
    const conn = await amqp.connect(BROKER_URL);
    try {
      const ch = await conn.createChannel();
      await ch.prefetch(1);
      await ch.consume(queue, () => {}, { noAck: false });
      await waitFor(async () => (await brokerCounts(queue)).unacked === 1, 10_000, "the consumer to hold a task");

      const r = await runTaskq(["status", "-q", queue, "--retry-delay", "60s", "--json"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(lines(r.stdout)).toHaveLength(1);
      const status = JSON.parse(r.stdout) as {
        ready: number;
        consumers: number;
        retrying: number;
        retry: { queue: string; delayMs: number; ready: number; consumers: number; unacked: number | null }[];
        dead: {
          queue: string;
          exists: boolean;
          ready: number;
          consumers: number;
          oldest: { id: string; failedAt: string; ageMs: number; reason: string };
        };
      };
      const broker = await brokerQueues();
      const retryQueue = `${queue}.retry.${RETRY_60S}`;
      expect(broker.get(queue)).toEqual({ ready: 4, consumers: 1 });
      expect(broker.get(retryQueue)).toEqual({ ready: 2, consumers: 0 });
      expect(broker.get(`${queue}.dead`)).toEqual({ ready: 2, consumers: 0 });
      expect({ ready: status.ready, consumers: status.consumers }).toEqual({ ready: 4, consumers: 1 });
      expect(status.retry).toEqual([{ queue: retryQueue, delayMs: RETRY_60S, ready: 2, consumers: 0, unacked: null }]);
      expect(status.retrying).toBe(2);
      expect({ ready: status.dead.ready, consumers: status.dead.consumers }).toEqual({ ready: 2, consumers: 0 });
      expect(status.dead.exists).toBe(true);

      // The oldest dead task is the first to have died.
      const firstDead = h.lines().find((l) => l.body === "exit 65");
      expect(status.dead.oldest.id).toBe(firstDead?.id as string);
      expect(status.dead.oldest.reason).toBe("command exited with code 65");
      expect(status.dead.oldest.ageMs).toBeGreaterThanOrEqual(0);
      expect(status.dead.oldest.ageMs).toBeLessThan(60_000);
      expect(Date.parse(status.dead.oldest.failedAt)).toBeLessThanOrEqual(Date.now());
      // Peeking handed the head back: nothing taken, nothing left unacked.
      expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 2, unacked: 0 });

      const human = await runTaskq(["status", "-q", queue, "--retry-delay", "60s"]);
      expect(human.code).toBe(0);
      expect(lines(human.stdout)).toEqual([
        expect.stringMatching(/^QUEUE +READY +IN PROGRESS +CONSUMERS$/),
        expect.stringMatching(new RegExp(`^${queue.replaceAll(".", "\\.")} +4 +\\? +1$`)),
        expect.stringMatching(/\.retry\.60000 +2 +\? +0 +retry after 1m$/),
        expect.stringMatching(/\.dead +2 +\? +0 +oldest \d+s ago: command exited with code 65$/),
        "dead tasks by reason (all 2):",
        "  2  command exited with code 65",
        expect.stringMatching(
          /^note: in progress \(unacked\), rates, .* refused the connection \(guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL\)$/,
        ),
      ]);

      // Levels from other settings are not seen: with the default 1s delay, the 60s queue is not probed.
      const other = JSON.parse((await runTaskq(["status", "-q", queue, "--json"])).stdout) as {
        retry: unknown[];
        retrying: number;
      };
      expect(other.retry).toEqual([]);
      expect(other.retrying).toBe(0);
    } finally {
      await conn.close().catch(() => {});
    }
  }, 120_000);

  test("--json shape: every documented key, with their types", async () => {
    const queue = queues.name("status-json");
    expect((await runTaskq(["send", "-q", queue, "one", "two"])).code).toBe(0);
    const r = await runTaskq(["status", "-q", queue, "--json"]);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as Record<string, unknown>;
    // The first nine keys as they always were; the management API's after them (null here: the shared broker has no plugin).
    expect(Object.keys(status)).toEqual([
      "time",
      "queue",
      "exists",
      "ready",
      "consumers",
      "readyPerSecond",
      "retrying",
      "retry",
      "dead",
      "unacked",
      "rates",
      "delay",
      "source",
      "missing",
    ]);
    expect(status).toMatchObject({
      queue,
      exists: true,
      ready: 2,
      consumers: 0,
      readyPerSecond: null,
      retrying: 0,
      retry: [],
    });
    expect(status.dead).toEqual({
      queue: `${queue}.dead`,
      exists: false,
      ready: 0,
      consumers: 0,
      oldest: null,
      reasons: [],
      sampled: 0,
    });
    expect(status).toMatchObject({
      unacked: null,
      rates: null,
      delay: [],
      source: "amqp",
      missing: expect.stringContaining("need the management plugin"),
    });
    expect(new Date(String(status.time)).toISOString()).toBe(String(status.time));
  }, 30_000);

  test("never creates a queue: a missing one is one line on stdout, exit 0, and nothing appears on the broker", async () => {
    const queue = queues.name("status-missing", [1000, 2000, 300_000]);
    // A queue known to exist, so an empty listing (rabbitmqctl can time out under load) cannot pass for "nothing created".
    const control = queues.name("status-control");
    expect((await runTaskq(["send", "-q", control, "x"])).code).toBe(0);
    const human = await runTaskq(["status", "-q", queue]);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe("");
    expect(human.stdout).toBe(
      `no such queue yet: '${queue}' (status never creates it; taskq send or work declares it)\n`,
    );
    const json = await runTaskq(["status", "-q", queue, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      time: expect.any(String),
      queue,
      exists: false,
      source: "amqp",
      missing: expect.any(String),
    });
    const listed = await brokerQueues();
    expect(listed.has(control)).toBe(true);
    expect([...listed.keys()].filter((name) => name.startsWith(queue))).toEqual([]);

    // A work queue that exists is not a reason to create its retry or dead queues either.
    expect((await runTaskq(["send", "-q", queue, "x"])).code).toBe(0);
    expect((await runTaskq(["status", "-q", queue])).code).toBe(0);
    expect(await queuesNamed(queue)).toEqual([queue]);
  }, 90_000);

  test("--watch into a pipe: one line per sample, the rate once there are two; Ctrl+C ends it with exit 0", async () => {
    const queue = queues.name("status-watch");
    expect((await runTaskq(["send", "-q", queue, "a", "b"])).code).toBe(0);
    const watch = new TaskqProcess(["status", "-q", queue, "--watch", "200ms"]);
    try {
      await waitFor(() => lines(watch.stdout).length >= 2, 10_000, "two samples");
      expect((await runTaskq(["send", "-q", queue, "--count", "10"])).code).toBe(0);
      await waitFor(() => /ready=12 /.test(watch.stdout), 10_000, "a sample after the send");
      const before = lines(watch.stdout).length;
      await waitFor(() => lines(watch.stdout).length >= before + 2, 10_000, "more samples");
      watch.kill("SIGINT");
      expect(await watch.exited).toBe(0);
      const out = lines(watch.stdout);
      expect(out.length).toBeGreaterThanOrEqual(4);
      // A sample taken while the send is under way sees part of it (ready=10): any count from 2 to 12, never falling.
      const counts: number[] = [];
      for (const line of out) {
        expect(line).toMatch(
          new RegExp(
            `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${queue.replaceAll(".", "\\.")} ready=\\d+ consumers=0 rate=\\S+ retrying=0 dead=0$`,
          ),
        );
        counts.push(Number(/ready=(\d+)/.exec(line)?.[1]));
      }
      expect(counts.every((n, i) => n >= 2 && n <= 12 && (i === 0 || n >= (counts[i - 1] as number)))).toBe(true);
      expect(out[0]).toContain("rate=?/s");
      expect(out.slice(1).every((l) => /rate=(0|[+-][\d.]+)\/s/.test(l))).toBe(true);
      expect(out.some((l) => /ready=12 .*rate=\+[\d.]+\/s/.test(l))).toBe(true); // the jump from 2 to 12
      expect(watch.stderr).toMatch(
        /^taskq status: note: in progress \(unacked\).* refused the connection \(guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL\)\n$/,
      ); // once, not per sample
    } finally {
      watch.kill("SIGKILL");
    }
  }, 40_000);

  test("--watch --json: one object per line and sample; SIGTERM ends it with exit 0 too", async () => {
    const queue = queues.name("status-watch-json");
    const watch = new TaskqProcess(["status", "-q", queue, "--watch", "150ms", "--json"]);
    try {
      await waitFor(() => lines(watch.stdout).length >= 3, 10_000, "three samples");
      watch.kill("SIGTERM");
      expect(await watch.exited).toBe(0);
      for (const line of lines(watch.stdout))
        expect(JSON.parse(line)).toEqual({
          time: expect.any(String),
          queue,
          exists: false,
          source: "amqp",
          missing: expect.any(String),
        });
      expect(await queueExists(queue)).toBe(false);
    } finally {
      watch.kill("SIGKILL");
    }
  }, 30_000);

  test("--watch on a terminal: a screen redrawn with the rate; Ctrl+C exits 0", async () => {
    if (!(await Terminal.available())) throw new Error("tmux is needed for this test (scripts/test installs it)");
    const queue = queues.name("status-tty");
    expect((await runTaskq(["send", "-q", queue, "a"])).code).toBe(0);
    const term = new Terminal();
    terminals.push(term);
    await term.start(`${TASKQ_BIN} status -q ${queue} --watch 300ms`, { TASKQ_URL: BROKER_URL });
    await term.waitFor(/ready 0\/s/);
    expect((await runTaskq(["send", "-q", queue, "--count", "20"])).code).toBe(0);
    const screen = await term.waitFor(/ready=?\s*\+[\d.]+\/s/);
    expect(screen).toMatch(
      new RegExp(
        `taskq status '${queue.replaceAll(".", "\\.")}', every 300ms, at \\d\\d:\\d\\d:\\d\\d \\(Ctrl\\+C to stop\\)`,
      ),
    );
    expect(screen).toMatch(/QUEUE +READY +IN PROGRESS +CONSUMERS/);
    // Redrawn, not scrolled: the title is on the screen once.
    expect(screen.match(/taskq status '/g)).toHaveLength(1);
    await term.waitFor(/ 21 +\? +0 +ready 0\/s/);
    await term.keys("C-c");
    expect(await term.waitFor(/\[exit \d+\]/)).toContain("[exit 0]");
  }, 60_000);

  test.each([
    [
      "a bad duration",
      ["--watch", "2x"],
      /^taskq: option '--watch \[interval\]' argument '2x' is invalid\. expected a duration like 500ms, 2s or 1m, got '2x'\.$/,
    ],
    ["an interval below 100ms", ["--watch", "10ms"], /^taskq: --watch interval must be at least 100ms, got 10ms$/],
    [
      "--retry-max-delay below --retry-delay",
      ["--retry-delay", "10s", "--retry-max-delay", "1s"],
      /^taskq: --retry-max-delay must be at least --retry-delay$/,
    ],
  ])("%s is a one-line usage error (exit 2)", async (_name, flags, message) => {
    const r = await runTaskq(["status", "-q", "taskq-test.never-used", ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(oneLineError(r.stderr)).toMatch(message);
  });

  test("an unreachable broker: one line, exit 3", async () => {
    const r = await runTaskq(["status", "--url", "amqp://guest:secret@127.0.0.1:1", "--connect-timeout", "300ms"]);
    expect(r.code).toBe(3);
    expect(oneLineError(r.stderr)).toContain("127.0.0.1:1");
    expect(r.stderr).not.toContain("secret");
  });
});

describe("taskq status --watch and a lost connection", () => {
  test("the watch says the connection is gone (once), connects again and goes on", async () => {
    // A proxy cuts the network between taskq and the shared broker, which is never stopped.
    const proxy = new DropProxy();
    await proxy.start();
    try {
      const queue = queues.name("status-drop");
      expect((await runTaskq(["send", "-q", queue, "a", "b", "c"])).code).toBe(0);
      const watch = new TaskqProcess(["status", "-q", queue, "--watch", "200ms"], {
        TASKQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
      });
      try {
        await waitFor(() => /ready=3 /.test(watch.stdout), 15_000, "a first sample");
        expect(proxy.drop()).toBe(1);
        await waitFor(() => /reconnecting/.test(watch.stdout), 15_000, "the loss to be shown");
        const seen = watch.stdout.length;
        await waitFor(() => lines(watch.stdout.slice(seen)).length >= 3, 15_000, "samples after the loss");
        watch.kill("SIGINT");
        expect(await watch.exited).toBe(0);
        const out = lines(watch.stdout);
        const lost = out.findIndex((l) => l.includes("reconnecting"));
        expect(out[lost]).toMatch(
          new RegExp(
            `Z ${queue.replaceAll(".", "\\.")}: lost the connection to 127\\.0\\.0\\.1:${proxy.port}: .*; reconnecting$`,
          ),
        );
        expect(out.filter((l) => l.includes("reconnecting"))).toHaveLength(1);
        expect(out[lost + 1]).toContain("ready=3 consumers=0 rate=?/s"); // no rate across the outage
        expect(watch.stderr).toMatch(
          /^taskq status: note: in progress \(unacked\).* refused the connection \(guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL\)\n$/,
        ); // once, not per sample
      } finally {
        watch.kill("SIGKILL");
      }
    } finally {
      proxy.stop();
    }
  }, 60_000);
});
