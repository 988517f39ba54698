import { afterAll, describe, expect, test } from "bun:test";
import type { MessageProperties } from "amqplib";
import { connect } from "../../src/core/broker/reconnector.ts";
import { Copier } from "../../src/core/failures/copier.ts";
import { makeCopy } from "../../src/core/failures/copy-table.ts";
import type { QueueType } from "../../src/core/topology/names.ts";
import {
  BROKER_URL,
  deleteQueues,
  drain,
  queueExists,
  rabbitmqctlRows,
  uniqueQueue,
  withChannel,
} from "../support/broker.ts";
import { runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
afterAll(() => deleteQueues(queues));
const target = { urls: [BROKER_URL], connectTimeoutMs: 5000 };
const LEVEL = 200;
/** expires = max(2 · 200, 200 + 1000) = 1200 ms; redeclared every 300 ms. */
const MARGIN = 1000;

function retryCopy(queue: string, id: number) {
  const properties = { messageId: `m-${id}`, headers: {} } as unknown as MessageProperties;
  return makeCopy(
    { queue, body: Buffer.from(`task ${id}`), attempt: 1, properties },
    { kind: "retry", levelMs: LEVEL, delayMs: LEVEL, nextAttempt: 2, deferrals: 0, reason: "test" },
  );
}

const listed = async (name: string) => (await rabbitmqctlRows("list_queues", ["name"])).some((row) => row[0] === name);

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await Bun.sleep(100);
  }
}

describe("retry and delay queues go away by themselves (x-expires)", () => {
  test.each<[QueueType]>([["classic"], ["quorum"]])(
    "%s: copies keep coming for longer than the expiry and none is lost; the queue goes once the last one went back",
    async (type) => {
      const queue = uniqueQueue(`hop-${type}`);
      const retry = `${queue}.retry.${LEVEL}`;
      queues.push(queue, retry);
      await withChannel((ch) =>
        ch.assertQueue(queue, {
          durable: true,
          ...(type === "quorum" ? { arguments: { "x-queue-type": "quorum" } } : {}),
        }),
      );
      const legacy: string[] = [];
      const copier = new Copier(() => connect(target, { name: "hop-expiry test" }), {
        queueType: type,
        expiryMarginMs: MARGIN,
        onLegacy: (q) => legacy.push(q),
      });
      const sent: string[] = [];
      try {
        // 40 copies, 100 ms apart: 4 s of copies, over three times the 1.2 s expiry.
        for (let i = 0; i < 40; i++) {
          await copier.publish(retryCopy(queue, i), { queue });
          sent.push(`m-${i}`);
          await Bun.sleep(100);
        }
      } finally {
        await copier.close();
      }
      const back: string[] = [];
      await waitFor("every copy back in the work queue", async () => {
        for (const m of await drain(queue)) back.push(String(m.properties.messageId));
        return sent.every((id) => back.includes(id));
      });
      // At least once: a copy confirmed later than E − L after its declare (a stalled machine) goes again.
      expect([...new Set(back)].sort()).toEqual([...sent].sort());
      // Watched with rabbitmqctl: a passive declare (queueExists) counts as a use of a classic queue and would keep it.
      await waitFor("the retry queue gone", async () => !(await listed(retry)));
      expect(legacy).toEqual([]);
    },
    60_000,
  );

  test("a retry queue an older taskq declared without x-expires is used as it is, said once, nothing lost", async () => {
    const queue = uniqueQueue("hop-legacy");
    const retry = `${queue}.retry.${LEVEL}`;
    queues.push(queue, retry);
    await withChannel(async (ch) => {
      await ch.assertQueue(queue, { durable: true });
      await ch.assertQueue(retry, {
        durable: true,
        arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue },
      });
    });
    const legacy: string[] = [];
    const copier = new Copier(() => connect(target, { name: "hop-expiry test" }), {
      queueType: "classic",
      expiryMarginMs: MARGIN,
      onLegacy: (q) => legacy.push(q),
    });
    try {
      for (let i = 0; i < 6; i++) {
        await copier.publish(retryCopy(queue, i), { queue });
        await Bun.sleep(150); // past the 300 ms redeclare: checked again, said once
      }
    } finally {
      await copier.close();
    }
    expect(legacy).toEqual([retry]);
    const back: string[] = [];
    await waitFor("every copy back", async () => {
      for (const m of await drain(queue)) back.push(String(m.properties.messageId));
      return back.length >= 6;
    });
    expect(back).toHaveLength(6);
    expect(await queueExists(retry)).toBe(true);
  });

  test("send --delay declares its delay queue with x-expires; a legacy one is used as it is, said once", async () => {
    const queue = uniqueQueue("hop-delay");
    const delay = `${queue}.delay.300`;
    queues.push(queue, delay);
    const r = await runTaskq(["send", "-q", queue, "--delay", "300ms", "a", "b"]);
    expect(r.code).toBe(0);
    const rows = await rabbitmqctlRows("list_queues", ["name", "arguments"]);
    const args =
      rows
        .find((row) => row[0] === delay)
        ?.slice(1)
        .join(" ") ?? "";
    expect(args).toContain("x-expires");
    expect(args).toContain(String(300 + 10 * 60_000));

    const old = uniqueQueue("hop-delay-legacy");
    queues.push(old, `${old}.delay.300`);
    await withChannel((ch) =>
      ch.assertQueue(`${old}.delay.300`, {
        durable: true,
        arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": old },
      }),
    );
    const l = await runTaskq(["send", "-q", old, "--delay", "300ms", "x", "y"]);
    expect(l.code).toBe(0);
    expect(l.stderr.split("\n").filter((line) => line.includes("older taskq"))).toHaveLength(1);
    const got: string[] = [];
    await waitFor("the delayed tasks", async () => {
      for (const m of await drain(old)) got.push(m.content.toString());
      return got.length >= 2;
    });
    expect(got.sort()).toEqual(["x", "y"]);
  });
});
