import { afterAll, describe, expect, test } from "bun:test";
import { type Task, send, task, work } from "taskq";
import { BROKER_URL, drain, readyCount, trackedQueues } from "../support/broker.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

/** Works `count` tasks of `queue`, keeping each Task as delivered. */
async function workAll(queue: string, count: number): Promise<Task[]> {
  const seen: Task[] = [];
  const worker = await work({ url: BROKER_URL, queue, maxTasks: count }, async (t) => void seen.push(t));
  await worker.done;
  return seen;
}

describe("library task data and per-task options", () => {
  test("a plain object, array, number, boolean or null goes as JSON (application/json); a string as text, a Buffer or Uint8Array as bytes", async () => {
    const queue = tracked.name("lib-json");
    const tasks = [
      { userId: 42, tags: ["a"] },
      [1, 2],
      7,
      true,
      null,
      "plain text",
      Buffer.from([0xff, 0x00]),
      new Uint8Array([1, 2, 3]),
    ];
    expect((await send({ url: BROKER_URL, queue, tasks })).sent).toBe(8);
    const seen = await workAll(queue, 8);
    expect(seen.slice(0, 5).map((t) => t.properties.contentType)).toEqual(Array(5).fill("application/json"));
    expect(seen.slice(0, 5).map((t) => t.json())).toEqual([{ userId: 42, tags: ["a"] }, [1, 2], 7, true, null]);
    const { userId } = (seen[0] as Task).json<{ userId: number }>();
    expect(userId).toBe(42);
    expect(seen.slice(5).map((t) => t.properties.contentType)).toEqual([undefined, undefined, undefined]);
    expect(seen.slice(5).map((t) => t.body.toString("hex"))).toEqual([
      Buffer.from("plain text").toString("hex"),
      "ff00",
      "010203",
    ]);
  });

  test("a plain object shaped like options ({ id, data }) is data; task() is not", async () => {
    const queue = tracked.name("lib-not-options");
    await send({
      url: BROKER_URL,
      queue,
      tasks: [{ id: "looks-like-an-id", data: 1 }, task({ id: 2 }, { id: "real-id" })],
    });
    const seen = await workAll(queue, 2);
    expect(seen.map((t) => t.json())).toEqual([{ id: "looks-like-an-id", data: 1 }, { id: 2 }]);
    expect(seen[0]?.messageId).not.toBe("looks-like-an-id");
    expect(seen[1]?.messageId).toBe("real-id");
  });

  test("a body that is not JSON: task.json() throws, the task goes dead at once (no retry) with the reason", async () => {
    const queue = tracked.name("lib-not-json", [100]);
    await send({ url: BROKER_URL, queue, tasks: ["{ not json", { fine: true }] });
    const attempts: number[] = [];
    const worker = await work(
      { url: BROKER_URL, queue, idleExitMs: 1000, retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 100 } },
      async (t) => {
        attempts.push(t.attempt);
        t.json();
      },
    );
    const summary = await worker.done;
    expect(summary).toMatchObject({ done: 1, failed: 1, retried: 0 });
    expect(attempts).toEqual([1, 1]);
    const dead = await drain(`${queue}.dead`);
    expect(dead.map((m) => m.content.toString())).toEqual(["{ not json"]);
    expect(String(dead[0]?.properties.headers?.["x-taskq-reason"])).toStartWith("body is not JSON: ");
    expect(dead[0]?.properties.headers?.["x-taskq-exit-code"]).toBe(65);
  });

  test("task(data, { id, headers }): the id is the message_id, the headers arrive, next to generated ids", async () => {
    const queue = tracked.name("lib-options");
    await send({
      url: BROKER_URL,
      queue,
      tasks: [
        task({ userId: 42 }, { id: "user-42-welcome", headers: { tenant: "a", priority: 3, vip: true } }),
        "no options",
      ],
    });
    const [first, second] = await workAll(queue, 2);
    expect(first?.messageId).toBe("user-42-welcome");
    expect(first?.headers).toMatchObject({ tenant: "a", priority: 3, vip: true });
    expect(first?.properties.contentType).toBe("application/json");
    expect(second?.messageId).toMatch(/^[0-9a-f]{12}-2$/);
  });

  test("per-task delays in one send: each waits in its own delay queue and arrives no sooner than its delay", async () => {
    const queue = tracked.name("lib-delays");
    tracked.also(`${queue}.delay.1500`);
    tracked.also(`${queue}.delay.3000`);
    const sentAt = Date.now();
    await send({
      url: BROKER_URL,
      queue,
      tasks: [
        "now",
        task("in 1.5 s", { delayMs: 1500 }),
        task("in 3 s", { delayMs: 3000 }),
        task("also now", { delayMs: 0 }),
      ],
    });
    expect(await readyCount(queue)).toBe(2);
    expect(await readyCount(`${queue}.delay.1500`)).toBe(1);
    expect(await readyCount(`${queue}.delay.3000`)).toBe(1);
    const arrived: Array<[string, number]> = [];
    const worker = await work(
      { url: BROKER_URL, queue, maxTasks: 4 },
      async (t) => void arrived.push([t.body.toString(), Date.now() - sentAt]),
    );
    await worker.done;
    expect(arrived.map(([body]) => body)).toEqual(["now", "also now", "in 1.5 s", "in 3 s"]);
    expect(arrived[2]?.[1]).toBeGreaterThanOrEqual(1500); // the broker's expiry: never early
    expect(arrived[3]?.[1]).toBeGreaterThanOrEqual(3000);
  }, 30_000);

  test("the send's delayMs applies to tasks without their own; a task's own delayMs wins", async () => {
    const queue = tracked.name("lib-delay-default");
    tracked.also(`${queue}.delay.60000`);
    await send({ url: BROKER_URL, queue, delayMs: 60_000, tasks: ["later", task("at once", { delayMs: 0 })] });
    expect(await readyCount(queue)).toBe(1);
    expect(await readyCount(`${queue}.delay.60000`)).toBe(1);
    expect((await drain(queue)).map((m) => m.content.toString())).toEqual(["at once"]);
  });

  test.each([
    [
      "a reserved header",
      () => task(1, { headers: { "x-taskq-attempt": 1 } }),
      "task header 'x-taskq-attempt' is reserved",
    ],
    ["x-death", () => task(1, { headers: { "X-Death": "no" } }), "task header 'X-Death' is reserved"],
    ["an empty id", () => task(1, { id: "" }), "task id must be a non-empty string"],
    ["a negative delay", () => task(1, { delayMs: -5 }), "task delayMs must be whole milliseconds"],
  ])("task() refuses %s with a TaskqError at once", (_, make, message) => {
    expect(make).toThrow(message);
  });

  test("an id used twice in one send, or data that is not JSON-serialisable, rejects the send with one clear line", async () => {
    const queue = tracked.name("lib-bad-send");
    const twice = send({ url: BROKER_URL, queue, tasks: [task(1, { id: "k" }), task(2, { id: "k" })] });
    await expect(twice).rejects.toThrow("task 2 has id 'k' as an earlier task of this send");
    await expect(send({ url: BROKER_URL, queue, tasks: [{ n: 10n }] })).rejects.toThrow(
      "task 1 is not JSON-serialisable",
    );
    await expect(send({ url: BROKER_URL, queue, tasks: [() => 1] })).rejects.toThrow("task 1 is function");
  });
});
