import { afterAll, describe, expect, test } from "bun:test";
import { deleteQueues, queueExists, readyCount, uniqueQueue, withChannel } from "../support/broker.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
afterAll(() => deleteQueues(queues));

/** A family as workers leave it: the work queue, two retry levels and a dead queue, with `tasks` per queue. */
async function family(label: string, tasks: Record<string, number>) {
  const q = uniqueQueue(label);
  const names = [q, `${q}.retry.1000`, `${q}.retry.2000`, `${q}.dead`];
  queues.push(...names);
  await withChannel(async (ch) => {
    for (const name of names) await ch.assertQueue(name, { durable: true });
    for (const [suffix, n] of Object.entries(tasks))
      for (let i = 0; i < n; i++) ch.sendToQueue(`${q}${suffix}`, Buffer.from(`t${i}`), { persistent: true });
    await ch.checkQueue(q);
  });
  return { q, names };
}

describe("taskq purge", () => {
  test("without a terminal or --yes: exit 2, nothing deleted; --yes purges the ready tasks", async () => {
    const { q } = await family("purge", { "": 3 });
    const refused = await runTaskq(["purge", "-q", q]);
    expect(refused.code).toBe(2);
    expect(oneLineError(refused.stderr)).toMatch(
      /^taskq: taskq purge deletes tasks and asks first, but stdin is not a terminal: pass --yes/,
    );
    expect(await readyCount(q)).toBe(3);
    const r = await runTaskq(["purge", "-q", q, "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `purged 3 ready task(s) from '${q}' (tasks in progress, unacked by workers, are not touched)\n`,
    );
    expect(await readyCount(q)).toBe(0);
  });

  test("a queue that does not exist: exit 1, one line, not created", async () => {
    const q = uniqueQueue("purge-none");
    const r = await runTaskq(["purge", "-q", q, "--yes"]);
    expect(r.code).toBe(1);
    expect(oneLineError(r.stderr)).toBe(`taskq: queue '${q}' does not exist`);
    expect(await queueExists(q)).toBe(false);
  });
});

describe("taskq remove", () => {
  const flags = ["--no-management", "--retry-delay", "1s", "--retry-max-delay", "2s"];

  test("refuses while a queue holds tasks (exit 1, naming them); --dry-run; --force deletes the family", async () => {
    const { q, names } = await family("remove-busy", { "": 2, ".dead": 1 });
    const refused = await runTaskq(["remove", "-q", q, "--yes", ...flags]);
    expect(refused.code).toBe(1);
    expect(
      oneLineError(
        refused.stderr
          .split("\n")
          .filter((l) => l.startsWith("taskq: "))
          .join("\n"),
      ),
    ).toBe(
      `taskq: refusing to remove: '${q}''s family holds tasks or has consumers: ${q} (2 ready), ${q}.dead (1 ready); --force deletes them with their tasks`,
    );
    for (const name of names) expect(await queueExists(name)).toBe(true);

    const dry = await runTaskq(["remove", "-q", q, "--force", "--dry-run", ...flags]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would delete 4 queue(s) and the 3 task(s) in them`);
    expect(dry.stderr).toContain("delay queues and retry levels other than");
    for (const name of names) expect(await queueExists(name)).toBe(true);

    const forced = await runTaskq(["remove", "-q", q, "--force", "--yes", ...flags]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`deleted '${q}' with 2 task(s)`);
    expect(forced.stdout).toContain(`deleted '${q}.dead' with 1 task(s)`);
    for (const name of names) expect(await queueExists(name)).toBe(false);
  });

  test("an empty family (work, retry and dead queues) goes with --yes; without a terminal it asks for --yes", async () => {
    const { q, names } = await family("remove-empty", {});
    const noYes = await runTaskq(["remove", "-q", q, ...flags]);
    expect(noYes.code).toBe(2);
    const r = await runTaskq(["remove", "-q", q, "--yes", ...flags]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toEqual([
      `deleted '${q}.retry.1000'`,
      `deleted '${q}.retry.2000'`,
      `deleted '${q}'`,
      `deleted '${q}.dead'`,
    ]);
    for (const name of names) expect(await queueExists(name)).toBe(false);
    const again = await runTaskq(["remove", "-q", q, "--yes", ...flags]);
    expect(again.stdout).toBe(`nothing to remove: no queue of '${q}''s family exists\n`);
  });

  test("a consumer on the work queue: refused", async () => {
    const { q } = await family("remove-consumer", {});
    await withChannel(async (ch) => {
      await ch.consume(q, () => {});
      const r = await runTaskq(["remove", "-q", q, "--yes", ...flags]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${q} (0 ready, 1 consumer(s))`);
    });
    expect(await queueExists(q)).toBe(true);
  });

  test("an empty quorum family: kept with one line saying why (RabbitMQ refuses if-empty on quorum queues); --force deletes it", async () => {
    const q = uniqueQueue("remove-quorum");
    queues.push(q, `${q}.dead`);
    await withChannel(async (ch) => {
      for (const name of [q, `${q}.dead`])
        await ch.assertQueue(name, { durable: true, arguments: { "x-queue-type": "quorum" } });
    });
    const r = await runTaskq(["remove", "-q", q, "--yes", ...flags]);
    expect(r.code).toBe(1);
    expect(
      oneLineError(
        r.stderr
          .split("\n")
          .filter((l) => l.startsWith("taskq: "))
          .join("\n"),
      ),
    ).toBe(
      `taskq: kept '${q}' (a quorum queue: RabbitMQ deletes those only unconditionally; it was empty and unused when checked: --force deletes it), '${q}.dead' (not deleted, as '${q}' is kept)`,
    );
    expect(await queueExists(q)).toBe(true);
    const forced = await runTaskq(["remove", "-q", q, "--yes", "--force", ...flags]);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trimEnd().split("\n")).toEqual([`deleted '${q}'`, `deleted '${q}.dead'`]);
    expect(await queueExists(q)).toBe(false);
  });

  test("without the management API, a task held unacked by basic.get is not seen (the broker's if-empty counts ready tasks only): said on stderr", async () => {
    const { q } = await family("remove-held", { ".dead": 1 });
    await withChannel(async (ch) => {
      const held = await ch.get(`${q}.dead`, { noAck: false });
      expect(held).not.toBe(false);
      const r = await runTaskq(["remove", "-q", q, "--yes", ...flags]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`deleted '${q}.dead'\n`);
      expect(r.stderr).toContain(
        "tasks a client holds unacked without a consumer (basic.get) or a quorum retry or delay queue holds unrouted are not seen: they go with their queue",
      );
    });
    expect(await queueExists(`${q}.dead`)).toBe(false);
  });
});
