import { beforeAll, expect, test } from "bun:test";
import { uniqueQueue } from "../support/broker.ts";
import { versionBroker } from "../support/versions.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

// RabbitMQ 4.1 raised the smallest frame before login to 8192 and refuses a client's frame_max
// below it (the socket closed, "negotiated frame_max = 4096 is lower than the minimum allowed
// value (8192)" in its log). amqplib 2.3.1 asks 131072 unless told, and reads a frame of any size up
// to its 64 MiB limit before the tune: taskq connects to 4.3 as it is.
const node = versionBroker("4.3");
beforeAll(() => node.up(), 240_000);

test.each([[""], ["?frameMax=8192"], ["?frameMax=0"]])(
  "4.3: a send and a work round trip with %p",
  async (query) => {
    const queue = uniqueQueue("frame-min");
    const env = { TASKQ_URL: `${node.url}${query}` };
    expect((await runTaskq(["send", "-q", queue, "a task"], { env })).code).toBe(0);
    const work = await runTaskq(["work", "-q", queue, "--max-tasks", "1", "--json"], { env });
    expect(work.code).toBe(0);
    expect(work.stdout).toContain('"outcome":"done"');
  },
  60_000,
);

test("?frameMax=4096: one line naming the limit, exit 2, before any connection (4.3 would close the socket unexplained)", async () => {
  const r = await runTaskq(["send", "-q", uniqueQueue("frame-min"), "x"], {
    env: { TASKQ_URL: `${node.url}?frameMax=4096` },
  });
  expect(r.code).toBe(2);
  expect(oneLineError(r.stderr)).toContain("?frameMax= must be 0 (no limit) or at least 8192");
});
