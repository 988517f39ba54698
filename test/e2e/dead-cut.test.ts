import { afterAll, describe, expect, test } from "bun:test";
import { BROKER_URL, drain, trackedQueues, withChannel } from "../support/broker.ts";
import { FrameCutter, METHOD } from "../support/frame-cutter.ts";
import { TASKQ_BIN, runTaskq } from "../support/taskq.ts";
import { Terminal } from "../support/tmux.ts";

// `taskq dead purge` given a cutter first (`--url CUTTER --url DIRECT`): its first connection is
// cut right before the 300th delete (an ack) reaches the broker, and it goes on through the broker
// straight. What it prints against what the broker deleted, with --yes, --limit and at the prompt.

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** `count` "boom A" dead tasks (`prefix`-1..), a "boom B" one after every 10th. */
async function park(queue: string, count: number, prefix = "a"): Promise<void> {
  await withChannel(async (ch) => {
    await ch.assertQueue(`${queue}.dead`, { durable: true });
    for (let i = 1; i <= count; i++) {
      const headers = { "x-taskq-reason": "boom A", "x-taskq-failed-at": new Date().toISOString() };
      ch.sendToQueue(`${queue}.dead`, Buffer.from(`${prefix} ${i}`), {
        persistent: true,
        messageId: `${prefix}-${i}`,
        headers,
      });
      if (i % 10 === 0)
        ch.sendToQueue(`${queue}.dead`, Buffer.from(`b ${i}`), {
          persistent: true,
          messageId: `b-${prefix}-${i}`,
          headers: { "x-taskq-reason": "boom B" },
        });
    }
    await ch.checkQueue(`${queue}.dead`);
  });
}

/** What is left of the "boom A" tasks; the "boom B" ones must all be there, in order. */
async function leftA(queue: string, bCount: number, prefix = "a"): Promise<string[]> {
  const ids = (await drain(`${queue}.dead`)).map((m) => String(m.properties.messageId));
  expect(ids.filter((id) => id.startsWith("b-"))).toEqual(
    Array.from({ length: bCount }, (_, i) => `b-${prefix}-${(i + 1) * 10}`),
  );
  return ids.filter((id) => !id.startsWith("b-"));
}

async function withCutter<T>(fn: (cutter: FrameCutter) => Promise<T>, nth = 300): Promise<T> {
  const cutter = new FrameCutter({ method: METHOD.basicAck, nth, broker: "close" });
  await cutter.start();
  try {
    return await fn(cutter);
  } finally {
    cutter.stop();
  }
}

describe("taskq dead purge across a lost connection", () => {
  test("--yes: all 1000 selected deleted, and 1000 said", async () => {
    const queue = tracked.name("cut-all");
    await park(queue, 1000);
    const r = await withCutter((cutter) =>
      runTaskq(
        ["dead", "purge", "-q", queue, "--reason", "boom A", "--yes", "--url", cutter.url, "--url", BROKER_URL],
        { timeoutMs: 60_000 },
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("reconnecting");
    expect(r.stdout).toBe(`purged 1000 task(s) from '${queue}.dead'\n`);
    expect(await leftA(queue, 100)).toEqual([]);
  }, 90_000);

  test("--yes --limit 500: no more than 500 deleted, and what was said", async () => {
    const queue = tracked.name("cut-limit");
    await park(queue, 1000);
    const r = await withCutter((cutter) =>
      runTaskq(
        [
          "dead",
          "purge",
          "-q",
          queue,
          "--reason",
          "boom A",
          "--yes",
          "--limit",
          "500",
          "--url",
          cutter.url,
          "--url",
          BROKER_URL,
        ],
        { timeoutMs: 60_000 },
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `purged 499 task(s) from '${queue}.dead'\n1 delete cut off by a lost connection counts against --limit 500 all the same: never more than 500 deleted\n`,
    );
    expect(1000 - (await leftA(queue, 100)).length).toBe(499);
  }, 90_000);

  test("at the prompt: only the previewed tasks deleted; the cut one and the new ones left, and said", async () => {
    const queue = tracked.name("cut-ask");
    await park(queue, 1000);
    const term = new Terminal();
    let screen = "";
    try {
      await withCutter(async (cutter) => {
        await term.start(
          `${TASKQ_BIN} dead purge -q ${queue} --reason 'boom A' --url ${cutter.url} --url ${BROKER_URL}`,
          { TASKQ_URL: BROKER_URL },
        );
        await term.waitFor(/delete 1000 dead task\(s\) from '.*' for good\? \[y\/N\]/);
        await park(queue, 5, "n"); // five more die before the answer
        await term.keys("y", "Enter");
        screen = await term.waitFor(/\[exit 0\]/, 60_000);
      });
    } finally {
      await term.close();
    }
    const lines = screen.split("\n").map((l) => l.trimEnd());
    expect(lines).toContain(`purged 999 task(s) from '${queue}.dead'`);
    expect(screen.replaceAll("\n", "")).toContain(
      `1 task of the 1000 agreed to left in '${queue}.dead': a lost connection cut off its delete, which still counts against the 1000 (purge again to delete it)`,
    );
    expect(lines).toContain("the dead queue changed since the preview: 5 selected tasks not in it were left");
    const left = await withChannel(async (ch) => (await ch.checkQueue(`${queue}.dead`)).messageCount);
    expect(left).toBe(100 + 1 + 5); // the boom B ones, the cut one, the new ones
    const ids = (await drain(`${queue}.dead`))
      .map((m) => String(m.properties.messageId))
      .filter((id) => !id.startsWith("b-"));
    expect(ids.sort()).toEqual(["a-300", "n-1", "n-2", "n-3", "n-4", "n-5"]);
  }, 90_000);
});

describe("taskq dead requeue across a lost connection", () => {
  test("--limit 100, the acks of the 100 confirmed copies cut off: 100 moved and said, none left in the dead queue too", async () => {
    const queue = tracked.name("cut-requeue");
    await park(queue, 1000);
    const r = await withCutter(
      (cutter) =>
        runTaskq(
          [
            "dead",
            "requeue",
            "-q",
            queue,
            "--reason",
            "boom A",
            "--limit",
            "100",
            "--url",
            cutter.url,
            "--url",
            BROKER_URL,
          ],
          { timeoutMs: 60_000 },
        ),
      1,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`moved 100 task(s) from '${queue}.dead' back to '${queue}'\n`);
    const moved = (await drain(queue)).map((m) => String(m.properties.messageId));
    expect(moved).toEqual(Array.from({ length: 100 }, (_, i) => `a-${i + 1}`));
    expect((await leftA(queue, 100)).length).toBe(900);
  }, 90_000);
});
