import { afterAll, describe, expect, test } from "bun:test";
import { BROKER_URL, brokerCounts, deleteQueues, drain, uniqueQueue, withChannel } from "../support/broker.ts";
import { TASKQ_BIN, oneLineError, runTaskq } from "../support/taskq.ts";
import { Terminal } from "../support/tmux.ts";

const queues: string[] = [];
const q = (label: string) => {
  const name = uniqueQueue(label);
  queues.push(name, `${name}.dead`);
  return name;
};
afterAll(() => deleteQueues(queues));

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const justNow = () => new Date().toISOString();
const dead = (id: string, reason: string, exitCode: number | null, failedAt: string) => ({
  body: `body ${id}`,
  messageId: id,
  headers: {
    "x-taskq-reason": reason,
    "x-taskq-exit-code": exitCode,
    "x-taskq-signal": null,
    "x-taskq-failed-at": failedAt,
    "x-taskq-attempts": 5,
  },
});

/** Five dead tasks: exit 3 old, exit 3 new, exit 1 old, a timeout (no exit code) old, exit 3 old. */
async function parkFive(queue: string) {
  const tasks = [
    dead("a", "command exited with code 3", 3, hourAgo()),
    dead("b", "command exited with code 3", 3, justNow()),
    dead("c", "command exited with code 1", 1, hourAgo()),
    dead("d", "timed out after 30s", null, hourAgo()),
    dead("e", "command exited with code 3", 3, hourAgo()),
  ];
  await withChannel(async (ch) => {
    await ch.assertQueue(`${queue}.dead`, { durable: true });
    for (const { body, ...props } of tasks)
      ch.sendToQueue(`${queue}.dead`, Buffer.from(body), { persistent: true, ...props });
    await ch.checkQueue(`${queue}.dead`);
  });
}

const ids = async (queue: string) => (await drain(queue)).map((m) => String(m.properties.messageId));

describe("taskq dead purge / requeue: selectors", () => {
  test("purge --exit-code --older-than deletes only those; the rest stay, in order", async () => {
    const queue = q("purge-sel");
    await parkFive(queue);
    const r = await runTaskq(["dead", "purge", "-q", queue, "--exit-code", "3", "--older-than", "30m", "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`purged 2 task(s) from '${queue}.dead'\n`);
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 3, unacked: 0 });
    expect(await ids(`${queue}.dead`)).toEqual(["b", "c", "d"]);
  });

  test("--reason is a case-insensitive part; --limit; requeue with selectors moves only those", async () => {
    const queue = q("requeue-sel");
    await parkFive(queue);
    const r = await runTaskq(["dead", "requeue", "-q", queue, "--reason", "CODE 3", "--limit", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`moved 2 task(s) from '${queue}.dead' back to '${queue}'\n`);
    expect(await ids(queue)).toEqual(["a", "b"]);
    const none = await runTaskq(["dead", "requeue", "-q", queue, "--exit-code", "42"]);
    expect(none.stdout).toBe(
      `moved 0 task(s) from '${queue}.dead' back to '${queue}' (no dead task matches the selectors)\n`,
    );
    expect(await ids(`${queue}.dead`)).toEqual(["c", "d", "e"]);
  });

  test("--dry-run prints the count and ids and changes nothing (requeue and purge)", async () => {
    const queue = q("dry");
    await parkFive(queue);
    const p = await runTaskq(["dead", "purge", "-q", queue, "--older-than", "30m", "--dry-run"]);
    expect(p.code).toBe(0);
    const lines = p.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`dry run: would purge 4 task(s) of '${queue}.dead'`);
    for (const id of ["a", "c", "d", "e"]) expect(p.stdout).toMatch(new RegExp(`^${id}\\s`, "m"));
    expect(p.stdout).not.toMatch(/^b\s/m);
    const m = await runTaskq(["dead", "requeue", "-q", queue, "--id", "c", "--dry-run"]);
    expect(m.stdout.split("\n")[0]).toBe(`dry run: would move 1 task(s) of '${queue}.dead' back to '${queue}'`);
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 5, unacked: 0 });
    expect(
      await withChannel(async (ch) =>
        ch.checkQueue(queue).then(
          () => true,
          () => false,
        ),
      ),
    ).toBe(false);
  });

  test("purge without --yes and without a terminal: exit 2, one line, nothing deleted", async () => {
    const queue = q("noyes");
    await parkFive(queue);
    const r = await runTaskq(["dead", "purge", "-q", queue]);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toBe(
      "taskq: taskq dead purge deletes tasks and asks first, but stdin is not a terminal: pass --yes to go ahead without asking",
    );
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 5, unacked: 0 });
    const all = await runTaskq(["dead", "purge", "-q", queue, "--yes"]);
    expect(all.stdout).toBe(`purged 5 task(s) from '${queue}.dead'\n`);
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 0, unacked: 0 });
  });

  test("purge on a terminal asks: n keeps them, y deletes", async () => {
    const queue = q("ask");
    await parkFive(queue);
    for (const [answer, left] of [
      ["n", 5],
      ["y", 3],
    ] as const) {
      const term = new Terminal();
      try {
        await term.start(`${TASKQ_BIN} dead purge -q ${queue} --exit-code 3 --older-than 30m`, {
          TASKQ_URL: BROKER_URL,
        });
        await term.waitFor(/delete 2 dead task\(s\) from '.*' for good\? \[y\/N\]/);
        await term.keys(answer, "Enter");
        await term.waitFor(/\[exit 0\]/);
      } finally {
        await term.close();
      }
      expect((await brokerCounts(`${queue}.dead`)).ready).toBe(left);
    }
  });

  test("tasks that die while purge asks are not deleted: only as many as the question said", async () => {
    const queue = q("ask-race");
    await parkFive(queue);
    const term = new Terminal();
    try {
      await term.start(`${TASKQ_BIN} dead purge -q ${queue} --exit-code 3 --older-than 30m`, { TASKQ_URL: BROKER_URL });
      await term.waitFor(/delete 2 dead task\(s\) from '.*' for good\? \[y\/N\]/);
      await parkFive(queue); // two more old exit-3 tasks die before the answer
      await term.keys("y", "Enter");
      await term.waitFor(/\[exit 0\]/);
      const screen = await term.screen();
      expect(screen).toContain(`purged 2 task(s) from '${queue}.dead'`);
      expect(screen).toContain("the dead queue changed since the preview: 2 selected tasks not in it were left");
    } finally {
      await term.close();
    }
    expect(await ids(`${queue}.dead`)).toEqual(["b", "c", "d", "a", "b", "c", "d", "e"]);
  });
});
