import { afterAll, describe, expect, test } from "bun:test";
import { rabbitmqctlRows, readyCount, trackedQueues, withChannel } from "../support/broker.ts";
import { jsonLines, oneLineError, runTaskq } from "../support/taskq.ts";

/**
 * A queue that exists as the other type than asked (classic vs quorum) is used as that type, said
 * once; any other difference still fails, with a hint that never suggests deleting its tasks.
 */
const queues = trackedQueues();
afterAll(() => queues.deleteAll());

async function queueTypes(): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  for (const [name, type] of await rabbitmqctlRows("list_queues", ["name", "type"]))
    if (name && type) types.set(name, type);
  return types;
}

const said = (stderr: string, queue: string, type: string) =>
  stderr.split(`'${queue}' is a ${type} queue: using it as ${type} (pass --queue-type ${type} to say so)`).length - 1;

// Fails "bad" tasks (exit 1: retried once, then dead), does the rest.
const FAIL_BAD = ["--", "sh", "-c", 'read body; [ "$body" != bad ]'];

describe.each([
  ["quorum", []],
  ["classic", ["--queue-type", "quorum"]],
] as const)("a %s queue, declared by someone else", (existing, asked) => {
  test(`send and work ${asked.length ? "--queue-type quorum" : "with default flags"} use it as ${existing}: tasks flow, its retry, dead and delay queues are ${existing} too, said once each`, async () => {
    const queue = queues.name(`adopt-${existing}`, [100]);
    await withChannel((ch) =>
      ch.assertQueue(queue, {
        durable: true,
        ...(existing === "quorum" ? { arguments: { "x-queue-type": "quorum" } } : {}),
      }),
    );

    const send = await runTaskq(["send", "-q", queue, ...asked, "--json", "ok 1", "bad", "ok 2"]);
    expect(send.code).toBe(0);
    expect(JSON.parse(send.stdout)).toMatchObject({ sent: 3, queueType: existing });
    expect(said(send.stderr, queue, existing)).toBe(1);
    expect(await readyCount(queue)).toBe(3);

    const work = await runTaskq([
      "work",
      "-q",
      queue,
      ...asked,
      "--json",
      "--max-attempts",
      "2",
      "--retry-delay",
      "100ms",
      "--idle-exit",
      "1500ms",
      ...FAIL_BAD,
    ]);
    expect(work.code).toBe(0);
    expect(said(work.stderr, queue, existing)).toBe(1);
    const outcomes = jsonLines<{ outcome: string }>(work.stdout).map((l) => l.outcome);
    expect(outcomes.filter((o) => o === "done")).toHaveLength(2);
    expect(outcomes.filter((o) => o === "retry")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "dead")).toHaveLength(1);
    expect(await readyCount(queue)).toBe(0);
    expect(await readyCount(`${queue}.dead`)).toBe(1);

    queues.also(`${queue}.delay.60000`);
    const later = await runTaskq(["send", "-q", queue, ...asked, "--delay", "1m", "later"]);
    expect(later.code).toBe(0);
    expect(said(later.stderr, queue, existing)).toBe(1);
    const types = await queueTypes();
    for (const name of [queue, `${queue}.retry.100`, `${queue}.dead`, `${queue}.delay.60000`])
      expect([name, types.get(name)]).toEqual([name, existing]);
  }, 60_000);
});

describe("a queue with other arguments (not the type)", () => {
  test("send and work fail in one line: the cause, how many tasks it holds, another --queue; never a delete", async () => {
    const queue = queues.name("mismatch-406");
    await withChannel(async (ch) => {
      await ch.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum", "x-max-length": 10 } });
      for (const body of ["a", "b", "c"]) ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
      await waitForCount(ch, queue, 3);
    });
    for (const argv of [
      ["send", "-q", queue, "x"],
      ["work", "-q", queue],
      ["send", "-q", queue, "--queue-type", "quorum", "x"],
    ]) {
      const r = await runTaskq(argv);
      expect(r.code).toBe(1);
      const line = oneLineError(r.stderr);
      expect(line).toStartWith(
        `taskq: queue '${queue}' already exists with other settings (inequivalent arg 'x-max-length'`,
      );
      expect(line).toEndWith("; it holds 3 task(s): use another --queue");
      expect(line).not.toMatch(/delete|remove/);
    }
    expect(await readyCount(queue)).toBe(3);
  });
});

/** The broker counts a published task once it is enqueued: waits (bounded) for `count`. */
async function waitForCount(
  ch: { checkQueue(q: string): Promise<{ messageCount: number }> },
  queue: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < 200 && (await ch.checkQueue(queue)).messageCount < count; i++) await Bun.sleep(25);
}
