import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { readyCount, uniqueQueue } from "../support/broker.ts";
import { IsolatedNode, type RabbitVersion, freePort } from "../support/node.ts";
import { jsonLines, runTaskq } from "../support/taskq.ts";

/** The versions scripts/broker runs besides the machine's 3.10, the package pinned for each (scripts/node.sh). */
const VERSIONS: Array<[RabbitVersion, string, number]> = [
  ["4.3", "4.3.6", 81],
  ["4.0", "4.0.5", 82],
];

describe.each(VERSIONS)("RabbitMQ %s on an isolated node (scripts/broker start --version)", (version, full, offset) => {
  const node = new IsolatedNode(`v${version.replace(".", "")}`, freePort(offset), { version });
  // The first start on a machine builds the version's root (about 25 s), later ones reuse it.
  beforeAll(() => node.start(), 240_000);
  afterAll(() => node.wipe(), 90_000);

  test("rabbitmqctl and the AMQP handshake both name the pinned version", async () => {
    expect((await node.ctl("-q", "version")).trim()).toBe(full);
    const conn = await amqp.connect(node.url);
    try {
      expect(String(conn.connection.serverProperties.version)).toBe(full);
      expect(String(conn.connection.serverProperties.product)).toBe("RabbitMQ");
    } finally {
      await conn.close();
    }
  });

  test.each(["classic", "quorum"])("taskq send, then taskq work, round-trip a task on a %s queue", async (type) => {
    const env = { TASKQ_URL: node.url };
    const queue = uniqueQueue(`versions-${type}`);
    const sent = await runTaskq(["send", "-q", queue, "--queue-type", type, "hello from taskq"], { env });
    expect(sent).toMatchObject({ code: 0 });
    const worked = await runTaskq(["work", "-q", queue, "--queue-type", type, "--max-tasks", "1", "--json"], { env });
    expect(worked.stderr).not.toMatch(/error|refused/i);
    expect(worked.code).toBe(0);
    expect(jsonLines(worked.stdout)).toEqual([expect.objectContaining({ outcome: "done", attempt: 1 })]);
    expect(await readyCount(queue, node.url)).toBe(0);
  });

  // Once is enough: a restart costs a boot (about 8 s here).
  test.if(version === "4.3")(
    "stop, start and ctl reach the node as the version it was started with",
    async () => {
      await node.restart();
      expect((await node.ctl("-q", "version")).trim()).toBe(full);
    },
    120_000,
  );
});
