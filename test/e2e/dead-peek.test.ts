import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type amqp from "amqplib";
import { listDead } from "../../src/core/admin/dead-list.ts";
import { REASON_SAMPLE, queueStatus } from "../../src/core/admin/queue-status.ts";
import type { Broker } from "../../src/core/broker/connection.ts";
import { connect } from "../../src/core/broker/reconnector.ts";
import { DEFAULT_RETRY } from "../../src/core/failures/retry-policy.ts";
import { deleteQueues, readyCount, uniqueQueue, waitFor, withChannel } from "../support/broker.ts";
import type { RabbitVersion } from "../support/node.ts";
import { versionBroker } from "../support/versions.ts";
import { runTaskq } from "../support/taskq.ts";

// Looking at a dead queue never spends a delivery (src/core/admin/dead-peek.ts): 100 looks in a
// row at a quorum dead queue leave every task there, once, in order, with its headers, on 4.3, 4.0
// (default delivery limit 20: a look that hands tasks back loses them all by the 22nd) and 3.10.

const TASKS = 30;
const LOOKS = 100;
/** `dead list`'s default: fewer than the queue holds, so a look that moves tasks must go round. */
const LIMIT = 20;

/** What a worker writes on a dead task (copy-table.ts, kind "dead"), and the x-death of the retry hop it came through. */
function deadHeaders(i: number, queue: string): Record<string, unknown> {
  return {
    "x-taskq-reason": i % 3 === 0 ? "command exited with code 3" : "command timed out after 5s",
    "x-taskq-exit-code": i % 3 === 0 ? 3 : null,
    "x-taskq-signal": null,
    "x-taskq-failed-at": new Date(Date.UTC(2026, 0, 2, 3, 4, i)).toISOString(),
    "x-taskq-worker-host": "worker-1",
    "x-taskq-original-queue": queue,
    "x-taskq-attempts": 5,
    "x-taskq-attempt": 5,
    "x-death": [
      {
        count: 1,
        reason: "expired",
        queue: `${queue}.retry.1000`,
        exchange: "",
        "routing-keys": [`${queue}.retry.1000`],
      },
    ],
  };
}

/** `<queue>.dead` as taskq declares it, with TASKS dead tasks d-1..d-30. */
async function park(url: string, queue: string, type: "quorum" | "classic"): Promise<void> {
  await withChannel(async (ch) => {
    await ch.assertQueue(queue, {
      durable: true,
      ...(type === "quorum" ? { arguments: { "x-queue-type": "quorum" } } : {}),
    });
    await ch.assertQueue(`${queue}.dead`, {
      durable: true,
      ...(type === "quorum" ? { arguments: { "x-queue-type": "quorum" } } : {}),
    });
    for (let i = 1; i <= TASKS; i++) {
      ch.sendToQueue(`${queue}.dead`, Buffer.from(`task ${i}`), {
        persistent: true,
        messageId: `d-${i}`,
        contentType: "text/plain",
        timestamp: 1_767_323_045,
        headers: deadHeaders(i, queue),
      });
    }
    await ch.checkQueue(`${queue}.dead`); // a round trip behind the publishes: the broker has them
  }, url);
  // A quorum queue counts a task once applied, a moment after the publish.
  await waitFor(
    async () => (await readyCount(`${queue}.dead`, url)) === TASKS,
    10_000,
    `${TASKS} tasks in ${queue}.dead`,
  );
}

/** Every message of `<queue>.dead`, taken off (noAck) once nothing holds any. */
function drainDead(url: string, queue: string): Promise<amqp.GetMessage[]> {
  return withChannel(async (ch) => {
    const out: amqp.GetMessage[] = [];
    for (;;) {
      const msg = await ch.get(`${queue}.dead`, { noAck: true });
      if (msg === false) return out;
      out.push(msg);
    }
  }, url);
}

/**
 * The dead queue is whole: every task once, in order, body and headers as parked, and no delivery
 * spent on any (at most the one a look's last get hands back, on a copy that look made).
 */
async function expectWhole(url: string, queue: string): Promise<void> {
  const left = await drainDead(url, queue);
  const ids = left.map((m) => String(m.properties.messageId));
  expect({ tasks: ids.length, distinct: new Set(ids).size }).toEqual({ tasks: TASKS, distinct: TASKS });
  expect(ids).toEqual(Array.from({ length: TASKS }, (_, i) => `d-${i + 1}`));
  for (const [i, msg] of left.entries()) {
    const {
      "x-delivery-count": count,
      "x-acquired-count": _acquired,
      ...headers
    } = (msg.properties.headers ?? {}) as Record<string, unknown>;
    expect(String(msg.content)).toBe(`task ${i + 1}`);
    expect(msg.properties).toMatchObject({ contentType: "text/plain", timestamp: 1_767_323_045 });
    expect(headers).toMatchObject({
      ...deadHeaders(i + 1, queue),
      "x-death": [expect.objectContaining({ count: 1, reason: "expired" })],
    });
    expect(Number(count ?? 0)).toBeLessThanOrEqual(1);
  }
}

describe.each<[RabbitVersion]>([["4.3"], ["4.0"], ["3.10"]])(
  "looking at a dead queue never spends a delivery: RabbitMQ %s",
  (version) => {
    const target = versionBroker(version);
    const url = target.url;
    const queues: string[] = [];
    const queue = (label: string) => {
      const name = uniqueQueue(label);
      queues.push(name, `${name}.dead`);
      return name;
    };
    let broker: Broker;

    beforeAll(async () => {
      await target.up();
      broker = await connect({ urls: [url], connectTimeoutMs: 10_000 });
    }, 240_000);
    afterAll(async () => {
      await broker?.close();
      await deleteQueues(queues, url);
    }, 90_000);

    test(`${LOOKS} looks (listDead, --limit ${LIMIT}) at a quorum dead queue of ${TASKS}: each sees the first ${LIMIT}, and all stay, in order, with their headers`, async () => {
      const q = queue("peek-quorum");
      await park(url, q, "quorum");
      const firstFew = Array.from({ length: LIMIT }, (_, i) => `d-${i + 1}`).join(" ");
      let fewest = LIMIT; // the fewest tasks a look saw
      let disordered = 0; // looks whose first LIMIT were not d-1..d-20
      for (let look = 1; look <= LOOKS; look++) {
        const list = await listDead(broker, q, LIMIT);
        if (list.tasks.map((t) => t.messageId).join(" ") !== firstFew) disordered++;
        fewest = Math.min(fewest, list.tasks.length);
      }
      const left = (await withChannel((ch) => ch.checkQueue(`${q}.dead`), url)).messageCount;
      expect({ fewest, disordered, left }).toEqual({ fewest: LIMIT, disordered: 0, left: TASKS });
      await expectWhole(url, q);
    }, 120_000);

    test("taskq dead list and taskq status, a few times each through the binary, leave the quorum dead queue whole", async () => {
      const q = queue("peek-binary");
      await park(url, q, "quorum");
      const env = { TASKQ_URL: url };
      for (let i = 0; i < 5; i++) {
        const listed = await runTaskq(["dead", "list", "-q", q], { env });
        expect(listed).toMatchObject({ code: 0 });
        expect(listed.stdout).toContain(`${TASKS} dead task(s) in '${q}.dead'`);
        const status = await runTaskq(["status", "-q", q, "--no-management"], { env });
        expect(status).toMatchObject({ code: 0 });
        expect(status.stdout).toContain(`dead tasks by reason (all ${TASKS})`);
      }
      await expectWhole(url, q);
    }, 120_000);

    test("a classic dead queue: 30 looks leave it whole too", async () => {
      const q = queue("peek-classic");
      await park(url, q, "classic");
      for (let look = 1; look <= 30; look++) expect((await listDead(broker, q, LIMIT)).tasks).toHaveLength(LIMIT);
      await expectWhole(url, q);
    }, 60_000);

    test("two looks at once, ten times: nothing lost, nothing doubled", async () => {
      const q = queue("peek-concurrent");
      await park(url, q, "quorum");
      for (let round = 0; round < 10; round++)
        await Promise.all([listDead(broker, q, LIMIT), listDead(broker, q, LIMIT)]);
      const ids = (await drainDead(url, q)).map((m) => String(m.properties.messageId));
      expect(ids.toSorted()).toEqual(Array.from({ length: TASKS }, (_, i) => `d-${i + 1}`).toSorted());
    }, 60_000);

    test.if(version === "4.0")(
      `status does not move more than ${REASON_SAMPLE} dead tasks for a sample: it says so, and the queue is untouched`,
      async () => {
        const q = queue("peek-status");
        await withChannel(async (ch) => {
          await ch.assertQueue(q, { durable: true, arguments: { "x-queue-type": "quorum" } });
          await ch.assertQueue(`${q}.dead`, { durable: true, arguments: { "x-queue-type": "quorum" } });
          for (let i = 1; i <= REASON_SAMPLE + 1; i++)
            ch.sendToQueue(`${q}.dead`, Buffer.from(`task ${i}`), { persistent: true, messageId: `s-${i}` });
          await ch.checkQueue(`${q}.dead`);
        }, url);
        await waitFor(async () => (await readyCount(`${q}.dead`, url)) === REASON_SAMPLE + 1, 10_000, "the tasks in");
        const status = await queueStatus(broker, q, { retry: DEFAULT_RETRY });
        expect(status.exists && status.dead).toMatchObject({
          ready: REASON_SAMPLE + 1,
          sampled: 0,
          unsampled: expect.stringContaining("moves every task once round"),
        });
        const left = await drainDead(url, q);
        expect(left.map((m) => m.properties.messageId)).toEqual(
          Array.from({ length: REASON_SAMPLE + 1 }, (_, i) => `s-${i + 1}`),
        );
        expect(left.every((m) => m.properties.headers?.["x-delivery-count"] === undefined)).toBe(true);
      },
      60_000,
    );
  },
);
