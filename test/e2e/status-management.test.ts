import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  BROKER_PORT,
  BROKER_URL,
  deleteQueues,
  trackedQueues,
  uniqueQueue,
  waitFor,
  withChannel,
} from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { TaskqProcess, runTaskq } from "../support/taskq.ts";

// One node with the management plugin for the whole file (its boot takes 10-20 s); never the shared broker's.
const node = new IsolatedNode("status-mgmt", freePort(61), { managementPort: freePort(62) });
const API = node.managementUrl as string;
const onNode = (args: string[]) => runTaskq([...args, "--url", node.url]);
const statusJson = async (args: string[]) => {
  const r = await onNode(["status", "--json", ...args]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown> & {
    retry: Array<Record<string, unknown>>;
    delay: Array<Record<string, unknown>>;
  };
};

beforeAll(async () => {
  await node.wipe();
  await node.start();
}, 120_000);
afterAll(async () => {
  await node.wipe();
}, 120_000);

describe("taskq status through the management API (isolated node with rabbitmq_management)", () => {
  test("in progress: the tasks a worker holds unacked, and the rates", async () => {
    const queue = uniqueQueue("status-unacked");
    // Two workers' worth of slow tasks: 30 dots at 1 s each, so they stay in progress while we look.
    const slow = ".".repeat(30);
    expect((await onNode(["send", "-q", queue, slow, slow, slow, slow])).code).toBe(0);
    const worker = new TaskqProcess(["work", "-q", queue, "--prefetch", "2", "--dot-ms", "1000"], {
      TASKQ_URL: node.url,
    });
    try {
      // The API's counts follow the broker's statistics (every 5 s by default).
      const seen = await waitFor(
        async () => {
          const s = await statusJson(["-q", queue, "--management-url", API]);
          return s.unacked === 2 ? s : undefined;
        },
        30_000,
        "2 tasks in progress",
        1000,
      );
      expect(seen).toMatchObject({ source: "management", missing: null, unacked: 2, consumers: 1 });
      expect(seen.rates).toEqual({ publish: expect.any(Number), deliver: expect.any(Number), ack: expect.any(Number) });
      const table = await onNode(["status", "-q", queue, "--management-url", API]);
      expect(table.stdout.split("\n")[0]).toMatch(/^QUEUE +READY +IN PROGRESS +CONSUMERS$/);
      expect(table.stdout).toMatch(
        new RegExp(`^${queue.replaceAll(".", "\\.")} +\\d+ +2 +1  in [\\d.]+/s, out [\\d.]+/s, acked [\\d.]+/s$`, "m"),
      );
      expect(table.stdout).not.toContain("note:");
    } finally {
      worker.kill("SIGKILL");
      await worker.exited;
    }
  }, 60_000);

  test("a retry level from a non-default --retry-delay, and a delay level, found by plain status; AMQP alone misses them and says so", async () => {
    const queue = uniqueQueue("status-levels");
    expect((await onNode(["send", "-q", queue, "fails"])).code).toBe(0);
    expect((await onNode(["send", "-q", queue, "--delay", "10m", "later"])).code).toBe(0);
    // The workers retry after 3 s (the default is 1 s): their first failure declares <queue>.retry.3000.
    const worker = new TaskqProcess(
      ["work", "-q", queue, "--retry-delay", "3s", "--max-attempts", "2", "--", "sh", "-c", "exit 1"],
      { TASKQ_URL: node.url },
    );
    let found: Awaited<ReturnType<typeof statusJson>>;
    try {
      found = await waitFor(
        async () => {
          const s = await statusJson(["-q", queue, "--management-url", API]);
          return s.retry.length > 0 ? s : undefined;
        },
        20_000,
        "a retry level",
        250,
      );
    } finally {
      worker.kill("SIGKILL");
      await worker.exited;
    }
    expect(found.source).toBe("management");
    // unacked is null until the broker's first statistics on a new queue (up to 5 s).
    expect(found.retry.map(({ unacked: _, ...level }) => level)).toEqual([
      { queue: `${queue}.retry.3000`, delayMs: 3000, ready: expect.any(Number), consumers: 0 },
    ]);
    expect(found.delay.map(({ unacked: _, ...level }) => level)).toEqual([
      { queue: `${queue}.delay.600000`, delayMs: 600_000, ready: 1, consumers: 0 },
    ]);

    const amqpOnly = await statusJson(["-q", queue, "--no-management"]);
    expect(amqpOnly).toMatchObject({ source: "amqp", retry: [], delay: [], unacked: null, rates: null });
    expect(amqpOnly.missing).toContain("(--no-management)");
  }, 60_000);

  test("a wrong password for the API is said as such (401), not a silent fallback; the password is never printed", async () => {
    const queue = uniqueQueue("status-401");
    expect((await onNode(["send", "-q", queue, "x"])).code).toBe(0);
    const r = await onNode([
      "status",
      "-q",
      queue,
      "--management-url",
      API.replace("http://", "http://guest:hunter22@"),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `note: in progress (unacked), rates, delay levels and retry levels from other --retry-delay settings need the management plugin: ${API} refused the login (401: wrong user or password`,
    );
    expect(r.stdout + r.stderr).not.toContain("hunter22");
  }, 30_000);
});

describe("taskq remove through the management API: what a quorum delay queue holds unrouted", () => {
  test("the work queue deleted by hand under a delayed task: remove sees the task held in the delay queue and refuses", async () => {
    const queue = uniqueQueue("remove-held");
    // The work queue must be gone before the delay ends, or the task reaches it and is deleted with it. On a loaded
    // machine a `rabbitmqctl delete_queue` alone can take longer than a second: delete through AMQP, check the order
    // by the clock, and try again with a longer delay if it was not kept.
    let delayMs = 0;
    for (const tryMs of [2000, 15_000]) {
      const before = Date.now();
      expect((await onNode(["send", "-q", queue, "--queue-type", "quorum", "--delay", `${tryMs}ms`, "x"])).code).toBe(
        0,
      );
      await withChannel((ch) => ch.deleteQueue(queue), node.url); // fails aloud, unlike deleteQueues
      if (Date.now() - before < tryMs - 500) {
        delayMs = tryMs;
        break;
      }
      await deleteQueues([`${queue}.delay.${tryMs}`], node.url);
    }
    expect(delayMs).toBeGreaterThan(0);
    const delayName = `${queue}.delay.${delayMs}`;
    // Past its delay, the quorum delay queue dead-letters at-least-once to a queue that is gone: it keeps the task,
    // neither ready nor unacked. The API's counts follow the broker's statistics (every 5 s by default).
    const delayQueue = new RegExp(`^${delayName.replaceAll(".", "\\.")}\\s+0\\s+1$`, "m");
    let seen = "";
    await waitFor(
      async () => {
        seen = await node.ctl("list_queues", "name", "messages_ready", "messages");
        return delayQueue.test(seen);
      },
      90_000,
      () => `the delayed task dead-lettered and held (0 ready, 1 message); last seen:\n${seen}`,
      1000,
    );
    const dry = await waitFor(
      async () => {
        const r = await onNode(["remove", "-q", queue, "--dry-run", "--management-url", API]);
        return r.stdout.includes("1 held (not yet routed)") ? r : undefined;
      },
      30_000,
      "the delay queue listed with its held task",
      1000,
    );
    expect(dry.stdout).toContain(`${delayName} (0 ready, 1 held (not yet routed))`);
    const refused = await onNode(["remove", "-q", queue, "--yes", "--management-url", API]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${delayName} (0 ready, 1 held (not yet routed))`);
    expect(await node.ctl("list_queues", "name", "messages")).toMatch(
      new RegExp(`^${delayName.replaceAll(".", "\\.")}\\s+1$`, "m"),
    );
    expect((await onNode(["remove", "-q", queue, "--yes", "--force", "--management-url", API])).code).toBe(0);
  }, 180_000);
});

describe("taskq status without the management plugin (the suite's broker)", () => {
  const queues = trackedQueues();
  afterAll(() => queues.deleteAll());

  test("the AMQP view, and one line stating what is missing and why", async () => {
    const queue = queues.name("status-no-api");
    expect((await runTaskq(["send", "-q", queue, "a"])).code).toBe(0);
    const host = new URL(BROKER_URL).hostname;
    // The API's address is guessed from the broker's: its port + 10000, then 15672 (the default).
    const guesses = [...new Set([BROKER_PORT + 10_000, 15672])]
      .map((port) => `http://${host}:${port} refused the connection`)
      .join("; ");
    const r = await runTaskq(["status", "-q", queue]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^QUEUE +READY +IN PROGRESS +CONSUMERS$/),
      expect.stringMatching(new RegExp(`^${queue.replaceAll(".", "\\.")} +1 +\\? +0$`)),
      expect.stringMatching(/\.dead +0 +0 +not created yet/),
      `note: in progress (unacked), rates, delay levels and retry levels from other --retry-delay settings need the management plugin: ${guesses} (guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL)`,
    ]);
    const json = JSON.parse((await runTaskq(["status", "-q", queue, "--json"])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ source: "amqp", unacked: null, rates: null, delay: [] });
    expect(json.missing).toContain("refused the connection");
  });
});
