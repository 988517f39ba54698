import { afterAll, describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { connect } from "../../src/core/broker/reconnector.ts";
import type { Broker } from "../../src/core/broker/connection.ts";
import { ATTEMPT_HEADER } from "../../src/core/headers.ts";
import { WorkerReports, collectWorkerReports } from "../../src/core/admin/worker-reports.ts";
import { REPORTS_EXCHANGE } from "../../src/core/worker/reports.ts";
import { BROKER_URL, deleteQueues, uniqueQueue, waitFor, withChannel } from "../support/broker.ts";
import { TaskqProcess } from "../support/taskq.ts";

const queues: string[] = [];
const procs: TaskqProcess[] = [];
const brokers: Broker[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const b of brokers) await b.close();
  await deleteQueues(queues);
});

function worker(args: string[]): TaskqProcess {
  const p = new TaskqProcess(["work", ...args]);
  procs.push(p);
  return p;
}

async function broker(): Promise<Broker> {
  const b = await connect({ urls: [BROKER_URL], connectTimeoutMs: 5000 });
  brokers.push(b);
  return b;
}

/** Publishes tasks as any client would: persistent, each with its id (and an attempt header when given). */
async function publish(queue: string, tasks: Array<{ id: string; body: string; attempt?: number }>): Promise<void> {
  await withChannel(async (ch) => {
    for (const t of tasks)
      ch.sendToQueue(queue, Buffer.from(t.body), {
        persistent: true,
        messageId: t.id,
        ...(t.attempt ? { headers: { [ATTEMPT_HEADER]: t.attempt } } : {}),
      });
    await ch.close();
  });
}

describe("worker reports (status --workers reads them)", () => {
  test("a worker running two slow tasks at concurrency 2 is seen with both (ids, attempts) and its counts", async () => {
    const q = uniqueQueue("reports");
    queues.push(q);
    const w = worker(["-q", q, "-c", "2", "--dot-ms", "1000", "--report-every", "300ms"]);
    await w.ready();
    await publish(q, [{ id: "quick-1", body: "quick" }]);
    await waitFor(() => w.stdout.includes("[x] Done"), 15_000, "the quick task done");
    await publish(q, [
      { id: "slow-1", body: "slow.............................." },
      { id: "slow-2", body: "slow again.........................", attempt: 2 },
    ]);
    const b = await broker();
    const seen = await waitFor(
      async () => {
        const reports = await collectWorkerReports(b, q, 500);
        return reports.length === 1 && reports[0]?.tasks.length === 2 ? reports[0] : undefined;
      },
      20_000,
      "a report with both slow tasks",
    );
    expect(seen.worker).toBe(`${hostname()}:${w.pid}`);
    expect(seen).toMatchObject({
      host: hostname(),
      pid: w.pid,
      queue: q,
      state: "running",
      concurrency: 2,
      prefetch: 2,
      intervalMs: 300,
    });
    expect(seen.counts).toEqual({ done: 1, retried: 0, dead: 0, handedBack: 0, lost: 0 });
    expect(seen.tasks.map((t) => [t.id, t.attempt]).sort()).toEqual([
      ["slow-1", 1],
      ["slow-2", 2],
    ]);
    for (const t of seen.tasks) expect(t.startedAt).toBeGreaterThanOrEqual(seen.startedAt);
    w.kill("SIGKILL"); // the slow tasks go back to the queue, which the test deletes
  }, 60_000);

  test("a worker stopped cleanly says so and disappears at once; its reports never reach the work queue", async () => {
    const q = uniqueQueue("reports-stop");
    queues.push(q);
    const b = await broker();
    const reports = await WorkerReports.open(b, q);
    // A long interval: a worker left out before three of them passed was left out for its `stopped` report.
    const w = worker(["-q", q, "--json", "--report-every", "20s"]);
    await w.ready();
    await waitFor(() => reports.current().find((r) => r.pid === w.pid), 15_000, "the worker's first report");
    w.kill("SIGINT");
    expect(await w.exited).toBe(0);
    await waitFor(() => reports.current().length === 0 || undefined, 15_000, "the worker gone from the reports");
    await reports.close();
    expect(w.stdout).toBe(""); // it consumed nothing: no report came to it as a task
    const inQueue = await withChannel(async (ch) => (await ch.checkQueue(q)).messageCount);
    expect(inQueue).toBe(0);
  }, 60_000);

  test("reports go to taskq's exchange, bound only by readers: the work queue never gets one", async () => {
    const q = uniqueQueue("reports-route");
    queues.push(q);
    const b = await broker();
    const reports = await WorkerReports.open(b, q);
    const w = worker(["-q", q, "--json", "--report-every", "100ms"]);
    await w.ready();
    // Ten reports heard by the reader (each with a later `at`) ...
    const ats = new Set<number>();
    await waitFor(
      () => {
        const r = reports.current().find((x) => x.pid === w.pid);
        if (r) ats.add(r.at);
        return ats.size >= 10 || undefined;
      },
      20_000,
      "ten reports",
    );
    await reports.close();
    // ... and not one in the work queue: the worker would have run it as a task (a --json line) and a
    // report waiting there would count as ready.
    const inQueue = await withChannel(async (ch) => (await ch.checkQueue(q)).messageCount);
    w.kill("SIGINT");
    expect(await w.exited).toBe(0);
    expect(inQueue).toBe(0);
    expect(w.stdout).toBe("");
    // The exchange is a durable topic exchange (a passive declare of another type would be refused).
    await withChannel(async (ch) => void (await ch.checkExchange(REPORTS_EXCHANGE)));
  }, 60_000);

  test("--report-every 0 sends none, while another worker on the same queue reports", async () => {
    const q = uniqueQueue("reports-off");
    queues.push(q);
    const b = await broker();
    const reports = await WorkerReports.open(b, q);
    const silent = worker(["-q", q, "--report-every", "0"]);
    await silent.ready();
    const loud = worker(["-q", q, "--report-every", "100ms"]);
    await loud.ready();
    const heardFromLoud = new Set<number>();
    const pidsHeard = new Set<number>();
    await waitFor(
      () => {
        for (const r of reports.current()) {
          pidsHeard.add(r.pid);
          if (r.pid === loud.pid) heardFromLoud.add(r.at);
        }
        return heardFromLoud.size >= 10 || undefined;
      },
      20_000,
      "ten reports of the reporting worker",
    );
    await reports.close();
    expect([...pidsHeard]).toEqual([loud.pid]);
    for (const p of [silent, loud]) p.kill("SIGINT");
    expect(await silent.exited).toBe(0);
    expect(await loud.exited).toBe(0);
  }, 60_000);

  test("status --watch --workers: the first sample already hears a running worker (JSON and piped lines)", async () => {
    const q = uniqueQueue("reports-watch");
    queues.push(q);
    const w = worker(["-q", q, "--dot-ms", "1000"]); // the default interval, 2 s
    await w.ready();
    await publish(q, [{ id: "long-1", body: "long............................" }]);
    const first = async (args: string[]) => {
      const watch = new TaskqProcess(["status", "-q", q, "--no-management", "--workers", "--watch", "200ms", ...args]);
      procs.push(watch);
      const line = await waitFor(() => watch.lines[0], 15_000, "the first sample");
      watch.kill("SIGINT");
      expect(await watch.exited).toBe(0);
      return line;
    };
    const json = JSON.parse(await first(["--json"])) as {
      workers: Array<{ pid: number; tasks: Array<{ id: string }> }>;
    };
    expect(json.workers.map((r) => [r.pid, r.tasks.map((t) => t.id)])).toEqual([[w.pid, ["long-1"]]]);
    expect(await first([])).toMatch(/ workers=1 running=1$/);
    w.kill("SIGKILL");
  }, 60_000);
});
