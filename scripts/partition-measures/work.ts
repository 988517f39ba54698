// `taskq work --url PROXY --url DIRECT` cut (blackholed) mid-queue: how long until it works again
// through the other URL, how long until the broker gives back the task the silent connection held,
// and whether every task was done (at least once).
import {
  type Child,
  type Context,
  type CutResult,
  Direct,
  type Line,
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

export interface WorkOptions {
  tasks: number;
  /** Cut once this many tasks are done. */
  cutAfter: number;
  /** Simulated work per task (`--dot-ms`, one dot per task). */
  taskMs: number;
}

interface Done {
  id: string;
  attempt: number;
  start: number;
  end: number;
}

/**
 * Tasks that start this soon after the cut may still be on the silent connection (a delivery the
 * proxy passed on just before it); anything through the other URL comes far later, after a missed
 * heartbeat and a reconnect.
 */
const SILENT_GRACE_MS = 100;

export const workMeasure = (o: WorkOptions): Measure => ({
  name: "work",
  title: `work: ${o.tasks} tasks of ${o.taskMs} ms, cut after ~${o.cutAfter} done`,
  durations: [
    ["next", "next task done, through the other URL"],
    ["requeued", "held task done again (broker requeued it)"],
    ["noticed", "worker logged the loss ('reconnecting')"],
  ],
  counts: [
    ["lost", "tasks never done"],
    ["duplicates", "tasks done twice or more (extra runs)"],
  ],
  exits: false,
  run: (ctx) => runWork(ctx, o),
});

async function runWork(ctx: Context, o: WorkOptions): Promise<CutResult> {
  const result: CutResult = { ms: { next: null, requeued: null, noticed: null }, counts: {}, failures: [] };
  const queue = freshQueue("work");
  const direct = await Direct.open(ctx.url);
  const { proxy, proxyUrl } = await proxyFor(ctx.url);
  let worker: Child | undefined;
  try {
    await direct.declare(queue);
    const fill = spawnTaskq(ctx, [
      "send",
      "-q",
      queue,
      "--count",
      String(o.tasks),
      "task {i}.",
      "--quiet",
      "--url",
      ctx.url,
    ]);
    const filled = await before(fill.exited, now() + 60_000);
    if (filled?.code !== 0) {
      await fill.stop();
      throw new Error(
        `filling the queue: taskq send ${filled ? `exited ${filled.code}` : "took over 60 s"}: ${tail(fill.stderr)}`,
      );
    }

    const done: Done[] = [];
    const onLine = (line: Line) => {
      const doc = parse(line.text);
      if (doc?.outcome === "done" && typeof doc.id === "string")
        done.push({ id: doc.id, attempt: Number(doc.attempt), start: Number(doc.start), end: Number(doc.end) });
    };
    const args = [
      "work",
      "-q",
      queue,
      ...(await brokerArgs(ctx, ["work"], [proxyUrl, ctx.url])),
      "--json",
      "--dot-ms",
      String(o.taskMs),
    ];
    worker = spawnTaskq(ctx, args, onLine);
    const w = worker;
    let exited = false;
    void w.exited.then(() => (exited = true));
    if (!(await waitUntil(() => exited || done.length >= o.cutAfter, now() + 60_000)) || exited) {
      throw new Error(
        `${exited ? `the worker exited after ${done.length} task(s)` : `the worker did not do ${o.cutAfter} tasks in 60 s (${done.length} done)`}: ${tail(w.stderr)}`,
      );
    }

    const cutAt = now();
    result.counts.silenced = proxy.blackhole();
    result.counts.cutAfterTasks = done.length;
    const prefix = (done[0] as Done).id.replace(/-\d+$/, "");
    const expected = Array.from({ length: o.tasks }, (_, i) => `${prefix}-${i + 1}`);
    const throughOther = (t: Done) => t.start > cutAt + SILENT_GRACE_MS;
    // The task the silent connection held comes back redelivered (attempt 2), or is a repeat of a
    // task whose ack the cut swallowed.
    const requeued = () =>
      done.find((t, i) => throughOther(t) && (t.attempt > 1 || done.slice(0, i).some((d) => d.id === t.id)));
    const allDone = () => new Set(done.map((t) => t.id)).size >= o.tasks;

    await waitUntil(() => allDone() && requeued() !== undefined, cutAt + ctx.timeoutMs, 20);
    const next = done.find(throughOther);
    const back = requeued();
    result.ms.next = next ? next.end - cutAt : null;
    result.ms.requeued = back ? back.end - cutAt : null;
    result.ms.noticed = firstSaid(w.stderr, cutAt, /reconnecting/);
    if (!next)
      result.failures.push(
        `no task done through the other URL within ${seconds(ctx.timeoutMs)} of the cut: ${tail(w.stderr)}`,
      );
    if (!back) {
      result.failures.push(
        `the task held on the silent connection was not done again within ${seconds(ctx.timeoutMs)} of the cut`,
      );
      // Close the silent connection (the broker then requeues what it held) to tell late from lost.
      proxy.drop();
      await waitUntil(allDone, now() + 30_000, 50);
    }
    await w.stop();
    const { lost, duplicates } = lossAndDuplicates(
      expected,
      done.map((t) => t.id),
    );
    result.counts.lost = lost;
    result.counts.duplicates = duplicates;
    if (lost > 0) result.failures.push(`${lost} task(s) never done`);
    return result;
  } finally {
    await worker?.stop(1000);
    proxy.stop();
    await direct.delete([queue, `${queue}.dead`]);
    await direct.close();
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    return typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
