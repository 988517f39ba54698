import { afterAll, describe, expect, test } from "bun:test";
import { brokerCounts, deleteQueues, drain, uniqueQueue, withChannel } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { jsonLines, oneLineError, runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
const q = (label: string) => {
  const name = uniqueQueue(label);
  queues.push(name, `${name}.dead`);
  return name;
};
afterAll(() => deleteQueues(queues));

/** Parks messages in `<queue>.dead` directly, as a worker would have. */
async function parkDead(
  queue: string,
  messages: Array<{
    body: Buffer | string;
    headers?: Record<string, unknown>;
    messageId?: string;
    correlationId?: string;
    contentType?: string;
  }>,
) {
  await withChannel(async (ch) => {
    await ch.assertQueue(`${queue}.dead`, { durable: true });
    for (const m of messages) {
      const { body, ...props } = m;
      ch.sendToQueue(`${queue}.dead`, Buffer.from(body), { persistent: true, ...props });
    }
    await ch.checkQueue(`${queue}.dead`); // a round trip: the publishes before it are in
  });
}

describe("taskq dead", () => {
  test("list shows failed tasks without removing them; requeue --id, then requeue moves them back", async () => {
    const queue = q("dead-flow");
    const dead = `${queue}.dead`;
    const h = new TestHandler();
    expect((await runTaskq(["send", "-q", queue, "fail a", "ok b", "fail c"])).code).toBe(0);
    const work = await runTaskq(["work", "-q", queue, "--max-tasks", "3", "--max-attempts", "1", ...h.command]);
    expect(work.code).toBe(0);

    const listed = await runTaskq(["dead", "list", "-q", queue, "--json"]);
    expect(listed.code).toBe(0);
    const tasks = jsonLines(listed.stdout);
    expect(tasks).toHaveLength(2);
    expect(tasks.map((t) => t.body)).toEqual(["fail a", "fail c"]);
    for (const t of tasks)
      expect(t).toMatchObject({
        reason: "command exited with code 3",
        exitCode: 3,
        signal: null,
        attempts: 1,
        originalQueue: queue,
      });
    expect(Number.isNaN(Date.parse(String(tasks[0]?.failedAt)))).toBe(false);
    // Listing is a peek: both are still there, none left unacked.
    expect(await brokerCounts(dead)).toEqual({ ready: 2, unacked: 0 });

    const human = await runTaskq(["dead", "list", "-q", queue]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`2 dead task(s) in '${dead}':`);
    expect(human.stdout).toMatch(/code 3\s+command exited with code 3\s+'fail a'/);

    const idA = h.lines().find((l) => l.body === "fail a")?.id;
    expect(idA).toBe(tasks[0]?.id as string);
    const one = await runTaskq(["dead", "requeue", "-q", queue, "--id", String(idA)]);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`moved 1 task(s) from '${dead}' back to '${queue}'\n`);
    const back = await drain(queue);
    expect(back).toHaveLength(1);
    expect(back[0]?.content.toString()).toBe("fail a");
    expect(back[0]?.properties.messageId).toBe(idA);
    expect(back[0]?.properties.deliveryMode).toBe(2);
    expect(back[0]?.properties.headers?.["x-taskq-reason"]).toBeUndefined();
    expect(back[0]?.properties.headers?.["x-taskq-attempts"]).toBeUndefined();
    expect(await brokerCounts(dead)).toEqual({ ready: 1, unacked: 0 });
    expect(jsonLines((await runTaskq(["dead", "list", "-q", queue, "--json"])).stdout).map((t) => t.body)).toEqual([
      "fail c",
    ]);

    const rest = await runTaskq(["dead", "requeue", "-q", queue]);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toBe(`moved 1 task(s) from '${dead}' back to '${queue}'\n`);
    expect(await brokerCounts(dead)).toEqual({ ready: 0, unacked: 0 });
    expect((await drain(queue)).map((m) => m.content.toString())).toEqual(["fail c"]);
    expect((await runTaskq(["dead", "list", "-q", queue])).stdout).toBe(`no dead tasks in '${dead}'\n`);
  });

  test("requeue keeps body and properties, drops the dead and attempt headers, honours --limit and order", async () => {
    const queue = q("dead-props");
    const deadHeaders = {
      "x-taskq-reason": "command exited with code 1",
      "x-taskq-exit-code": 1,
      "x-taskq-signal": null,
      "x-taskq-attempts": 3,
      "x-taskq-attempt": 3,
    };
    await parkDead(queue, [
      {
        body: "first",
        messageId: "m-1",
        correlationId: "c-1",
        contentType: "text/plain",
        headers: { ...deadHeaders, "x-app": "keep" },
      },
      { body: "second", messageId: "m-2", headers: deadHeaders },
      { body: "third", messageId: "m-3", headers: deadHeaders },
    ]);
    const r = await runTaskq(["dead", "requeue", "-q", queue, "--limit", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`moved 2 task(s) from '${queue}.dead' back to '${queue}'\n`);
    const back = await drain(queue);
    expect(back.map((m) => m.content.toString())).toEqual(["first", "second"]);
    expect(back[0]?.properties).toMatchObject({
      messageId: "m-1",
      correlationId: "c-1",
      contentType: "text/plain",
      deliveryMode: 2,
      headers: { "x-app": "keep" },
    });
    expect(Object.keys(back[0]?.properties.headers ?? {})).toEqual(["x-app"]);
    expect(back[1]?.properties.headers?.["x-taskq-attempt"]).toBeUndefined();
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 1, unacked: 0 });

    const none = await runTaskq(["dead", "requeue", "-q", queue, "--id", "no-such-id"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("moved 0 task(s)");
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 1, unacked: 0 });
  });

  test("list previews bodies on one line: control and non-UTF-8 bytes escaped, long ones cut; --limit", async () => {
    const queue = q("dead-preview");
    await parkDead(queue, [
      { body: Buffer.from([0x62, 0x69, 0x6e, 0xff, 0x00, 0x0a, 0x41]), messageId: "bin" },
      { body: `héllo ${"x".repeat(200)}`, messageId: "long" },
    ]);
    const r = await runTaskq(["dead", "list", "-q", queue]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4); // title, header, two tasks
    expect(lines[2]).toEndWith("'bin\\xff\\x00\\nA'");
    expect(lines[3]).toMatch(/'héllo x+…' \(207 bytes\)$/);
    expect(lines[3]?.length).toBeLessThan(160);

    const json = jsonLines((await runTaskq(["dead", "list", "-q", queue, "--json"])).stdout);
    expect(json[0]).toMatchObject({
      id: "bin",
      body: null,
      bodyBase64: Buffer.from([0x62, 0x69, 0x6e, 0xff, 0x00, 0x0a, 0x41]).toString("base64"),
      bytes: 7,
    });
    expect(json[1]?.body).toBe(`héllo ${"x".repeat(200)}`);

    const limited = await runTaskq(["dead", "list", "-q", queue, "--limit", "1"]);
    expect(limited.stdout).toContain("showing the first 1 of 2");
    expect(await brokerCounts(`${queue}.dead`)).toEqual({ ready: 2, unacked: 0 });
  });

  test("a queue without a dead queue has no dead tasks (and none is created)", async () => {
    const queue = q("dead-none");
    for (const sub of ["list", "requeue"]) {
      const r = await runTaskq(["dead", sub, "-q", queue]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`no dead tasks in '${queue}.dead'\n`);
      expect(r.stderr).toBe("");
    }
    const exists = await withChannel((ch) =>
      ch.checkQueue(`${queue}.dead`).then(
        () => true,
        () => false,
      ),
    );
    expect(exists).toBe(false);
  });

  test.each([
    [["dead", "list", "--bogus"], /^taskq: unknown option '--bogus'$/],
    [["dead", "requeue", "--limit", "0"], /^taskq: option '--limit <n>' argument '0' is invalid/],
    [["dead", "requeue", "--id", ""], /^taskq: --id cannot be empty$/],
    [["dead", "purge", "--exit-code", "x"], /^taskq: option '--exit-code <n>' argument 'x' is invalid/],
  ])("bad input %p: one line, exit 2", async (argv, pattern) => {
    const r = await runTaskq(argv);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(pattern);
  });
});
