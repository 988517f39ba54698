// `taskq dead requeue --url PROXY --url DIRECT` cut (blackholed) mid-way: how long until it exits,
// with what code, whether the work queue and the dead queue together hold every task, and whether
// the dead queue ends empty (at the exit, and once the silent connection is closed and the broker
// has given back what it held).
import { randomBytes } from "node:crypto";
import {
  type Child,
  type Context,
  type CutResult,
  Direct,
  type Measure,
  before,
  brokerArgs,
  firstSaid,
  freshQueue,
  lossAndDuplicates,
  now,
  proxyFor,
  seconds,
  spawnTaskq,
  tail,
  waitUntil,
} from "./common.ts";

export interface RequeueOptions {
  tasks: number;
}

export const requeueMeasure = (o: RequeueOptions): Measure => ({
  name: "requeue",
  title: `dead requeue: ${o.tasks} dead tasks, cut at ~${Math.floor(o.tasks / 2)} moved`,
  durations: [
    ["exit", "dead requeue exited"],
    ["noticed", "dead requeue said something on stderr"],
  ],
  counts: [
    ["lost", "tasks in neither queue"],
    ["duplicates", "duplicates (both queues)"],
    ["deadAtExit", "left in <queue>.dead at the exit"],
    ["deadAfterRelease", "in <queue>.dead once the silent connection closed"],
  ],
  exits: true,
  run: (ctx) => runRequeue(ctx, o),
});

async function runRequeue(ctx: Context, o: RequeueOptions): Promise<CutResult> {
  const result: CutResult = { ms: { exit: null, noticed: null }, counts: {}, failures: [] };
  const queue = freshQueue("requeue");
  const dead = `${queue}.dead`;
  const direct = await Direct.open(ctx.url);
  const { proxy, proxyUrl } = await proxyFor(ctx.url);
  let requeue: Child | undefined;
  try {
    await direct.declare(queue);
    await direct.declare(dead);
    const prefix = randomBytes(6).toString("hex");
    const expected = Array.from({ length: o.tasks }, (_, i) => `${prefix}-${i + 1}`);
    const failedAt = new Date().toISOString();
    // As a worker leaves them: persistent, with taskq's dead headers.
    await direct.publish(
      dead,
      expected.map((id, i) => ({
        body: Buffer.from(`task ${i + 1}.`),
        options: {
          persistent: true,
          messageId: id,
          timestamp: Math.floor(Date.now() / 1000),
          headers: {
            "x-taskq-reason": "exit 1",
            "x-taskq-exit-code": 1,
            "x-taskq-failed-at": failedAt,
            "x-taskq-original-queue": queue,
            "x-taskq-attempts": 5,
          },
        },
      })),
    );

    requeue = spawnTaskq(ctx, [
      "dead",
      "requeue",
      "-q",
      queue,
      ...(await brokerArgs(ctx, ["dead", "requeue"], [proxyUrl, ctx.url])),
    ]);
    const r = requeue;
    let exitedEarly = false;
    void r.exited.then(() => (exitedEarly = true));
    const half = Math.floor(o.tasks / 2);
    if (
      !(await waitUntil(async () => exitedEarly || (await direct.ready(queue)) >= half, now() + 60_000, 2)) ||
      exitedEarly
    ) {
      throw new Error(
        exitedEarly
          ? `dead requeue exited before the cut: ${tail(r.stderr)}`
          : `fewer than ${half} tasks moved in 60 s: ${tail(r.stderr)}`,
      );
    }
    const cutAt = now();
    result.counts.silenced = proxy.blackhole();
    result.counts.movedAtCut = await direct.ready(queue);

    const exit = await before(r.exited, cutAt + ctx.timeoutMs);
    result.ms.noticed = firstSaid(r.stderr, cutAt);
    if (exit) {
      result.ms.exit = exit.at - cutAt;
      result.exitCode = exit.code;
      if (exit.code !== 0) result.failures.push(`dead requeue exited ${exit.code}: ${tail(r.stderr)}`);
    } else {
      result.exitCode = null;
      result.failures.push(
        `dead requeue did not exit within ${seconds(ctx.timeoutMs)} of the cut (stopped): ${tail(r.stderr)}`,
      );
      await r.stop();
    }
    result.counts.deadAtExit = await direct.ready(dead);

    // Close the silent connection: the broker gives back what it had fetched and not acked.
    proxy.drop();
    await waitUntil(
      async () => (await direct.ready(queue)) + (await direct.ready(dead)) >= o.tasks,
      now() + 10_000,
      50,
    );
    await Bun.sleep(200);
    result.counts.deadAfterRelease = await direct.ready(dead);
    const ids = [...(await direct.drainIds(queue)), ...(await direct.drainIds(dead))];
    const { lost, duplicates } = lossAndDuplicates(expected, ids);
    result.counts.lost = lost;
    result.counts.duplicates = duplicates;
    if (lost > 0) result.failures.push(`${lost} task(s) in neither queue`);
    if (exit?.code === 0 && result.counts.deadAfterRelease > 0)
      result.failures.push(
        `exit 0 but ${result.counts.deadAfterRelease} task(s) still dead once the silent connection closed`,
      );
    return result;
  } finally {
    await requeue?.stop(1000);
    proxy.stop();
    await direct.delete([queue, dead]);
    await direct.close();
  }
}
