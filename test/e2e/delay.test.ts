import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { drain, trackedQueues, waitFor, withChannel } from "../support/broker.ts";
import { IsolatedNode, freePort } from "../support/node.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";
import { send } from "../../src/index.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** Ready messages in `queue` right now (0 when it does not exist). */
const ready = (queue: string, url?: string) =>
  withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, url).catch(() => 0);

describe("taskq send --delay", () => {
  test("a delayed task is not in the queue before its delay, and is after it: persistent, confirmed, same id", async () => {
    const queue = tracked.name("delay");
    tracked.also(`${queue}.delay.1500`);
    const started = Date.now();
    const r = await runTaskq(["send", "-q", queue, "--delay", "1500ms", "--json", "later"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 1 });
    expect(await ready(queue)).toBe(0);
    expect(await ready(`${queue}.delay.1500`)).toBe(1);
    await waitFor(async () => (await ready(queue)) === 1, 10_000, "the task to arrive");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    const [msg] = await drain(queue);
    expect(msg?.content.toString()).toBe("later");
    expect(msg?.properties.deliveryMode).toBe(2);
    expect(msg?.properties.messageId).toMatch(/-1$/);
  });

  test("--delay 0 is a plain send", async () => {
    const queue = tracked.name("delay-zero");
    expect((await runTaskq(["send", "-q", queue, "--delay", "0", "now"])).code).toBe(0);
    expect(await ready(queue)).toBe(1);
  });

  test.each([
    ["a negative delay", "-5s"],
    ["no unit that parses", "soon"],
    ["too long for the broker", "1200h"],
  ])("%s is a one-line usage error", async (_label, value) => {
    const r = await runTaskq(["send", "-q", "never-declared", "--delay", value, "x"]);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(/delay/);
  });

  test("the library's delayMs", async () => {
    const queue = tracked.name("delay-lib");
    tracked.also(`${queue}.delay.800`);
    await send({ queue, tasks: ["a", "b"], delayMs: 800 });
    expect(await ready(queue)).toBe(0);
    await waitFor(async () => (await ready(queue)) === 2, 10_000, "both tasks to arrive");
  });
});

describe("a delayed task across a broker restart (isolated node)", () => {
  const node = new IsolatedNode("delay", freePort(43));
  beforeAll(() => node.start(), 120_000);
  afterAll(() => node.wipe(), 60_000);

  test("still delivered once due, after the broker restarted while it waited", async () => {
    const queue = "delayed-restart";
    const r = await runTaskq(["send", "-q", queue, "--delay", "4s", "survives"], { env: { TASKQ_URL: node.url } });
    expect(r.code).toBe(0);
    await node.restart();
    await waitFor(async () => (await ready(queue, node.url)) === 1, 60_000, "the delayed task after the restart");
    const [msg] = await drain(queue, node.url);
    expect(msg?.content.toString()).toBe("survives");
  }, 180_000);
});
