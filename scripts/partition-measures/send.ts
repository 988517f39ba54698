// `taskq send --url PROXY --url DIRECT` cut (blackholed) mid-send: how long until it exits, with
// what code, and whether the queue then holds every task (duplicates allowed).
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

export interface SendOptions {
  tasks: number;
  /** Cut once the queue holds this many. */
  cutAt: number;
}

export const sendMeasure = (o: SendOptions): Measure => ({
  name: "send",
  title: `send: ${o.tasks} tasks, cut at ~${o.cutAt} in the queue`,
  durations: [
    ["exit", "send exited"],
    ["noticed", "send said something on stderr"],
  ],
  counts: [
    ["lost", "tasks missing from the queue"],
    ["duplicates", "duplicates in the queue"],
    ["resent", "resent (its --json summary)"],
  ],
  exits: true,
  run: (ctx) => runSend(ctx, o),
});

async function runSend(ctx: Context, o: SendOptions): Promise<CutResult> {
  const result: CutResult = { ms: { exit: null, noticed: null }, counts: {}, failures: [] };
  const queue = freshQueue("send");
  const direct = await Direct.open(ctx.url);
  const { proxy, proxyUrl } = await proxyFor(ctx.url);
  let send: Child | undefined;
  try {
    await direct.declare(queue); // as send declares it: the depth can be read from the start
    send = spawnTaskq(ctx, [
      "send",
      "-q",
      queue,
      "--count",
      String(o.tasks),
      ...(await brokerArgs(ctx, ["send"], [proxyUrl, ctx.url])),
      "--json",
    ]);
    const s = send;
    let exitedEarly = false;
    void s.exited.then(() => (exitedEarly = true));
    if (
      !(await waitUntil(async () => exitedEarly || (await direct.ready(queue)) >= o.cutAt, now() + 60_000, 5)) ||
      exitedEarly
    ) {
      throw new Error(
        exitedEarly
          ? `send exited before the cut: ${tail(s.stderr)}`
          : `the queue did not reach ${o.cutAt} tasks in 60 s: ${tail(s.stderr)}`,
      );
    }
    const cutAt = now();
    result.counts.silenced = proxy.blackhole();
    result.counts.depthAtCut = await direct.ready(queue);

    const exit = await before(s.exited, cutAt + ctx.timeoutMs);
    result.ms.noticed = firstSaid(s.stderr, cutAt);
    if (exit) {
      result.ms.exit = exit.at - cutAt;
      result.exitCode = exit.code;
      const summary = lastJson(s.stdout.map((l) => l.text));
      if (typeof summary?.resent === "number") result.counts.resent = summary.resent;
      if (exit.code !== 0) result.failures.push(`send exited ${exit.code}: ${tail(s.stderr)}`);
    } else {
      result.exitCode = null;
      result.failures.push(
        `send did not exit within ${seconds(ctx.timeoutMs)} of the cut (stopped): ${tail(s.stderr)}`,
      );
      await s.stop();
    }

    const ids = await direct.drainIds(queue);
    const prefix = ids[0]?.replace(/-\d+$/, "") ?? "";
    const { lost, duplicates } = lossAndDuplicates(
      Array.from({ length: o.tasks }, (_, i) => `${prefix}-${i + 1}`),
      ids,
    );
    result.counts.inQueue = ids.length;
    result.counts.lost = lost;
    result.counts.duplicates = duplicates;
    if (exit?.code === 0 && lost > 0) result.failures.push(`send exited 0 but ${lost} task(s) are not in the queue`);
    return result;
  } finally {
    await send?.stop(1000);
    proxy.stop();
    await direct.delete([queue]);
    await direct.close();
  }
}

function lastJson(lines: string[]): Record<string, unknown> | undefined {
  for (const line of lines.toReversed()) {
    try {
      const doc: unknown = JSON.parse(line);
      if (typeof doc === "object" && doc !== null) return doc as Record<string, unknown>;
    } catch {}
  }
  return undefined;
}
