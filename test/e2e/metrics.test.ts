import { afterAll, describe, expect, test } from "bun:test";
import { deleteQueues, uniqueQueue, waitFor } from "../support/broker.ts";
import { TestHandler } from "../support/handler.ts";
import { TaskqProcess, oneLineError, runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
const procs: TaskqProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await deleteQueues(queues);
});

/** A loopback port nothing listens on right now (bound by the kernel, then let go). */
function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

/** Starts `taskq work ARGS --metrics-port P` on a free port; tries another if someone took it in between. */
async function workerWithMetrics(args: string[]): Promise<{ worker: TaskqProcess; url: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = freePort();
    const worker = new TaskqProcess(["work", "--metrics-port", String(port), ...args]);
    procs.push(worker);
    try {
      await worker.ready();
      return { worker, url: `http://127.0.0.1:${port}/metrics` };
    } catch (err) {
      if (attempt >= 3 || !/already in use/.test(worker.stderr)) throw err;
    }
  }
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return res.text();
}

/** The value of one sample line (`name{labels}`), or undefined if it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("taskq work --metrics-port", () => {
  test("counts outcomes, durations, tasks in flight; the port closes when the worker exits", async () => {
    const queue = uniqueQueue("metrics");
    queues.push(queue, `${queue}.dead`);
    const h = new TestHandler();
    const { worker, url } = await workerWithMetrics(["-q", queue, "--max-attempts", "1", ...h.command]);
    expect(worker.stderr).toContain(` [*] Metrics at ${url}\n`);
    const q = `queue="${queue}"`;

    const before = await scrape(url);
    expect(sample(before, "taskq_up")).toBe(1);
    expect(sample(before, `taskq_tasks_total{${q},outcome="done"}`)).toBe(0);
    expect(before).toContain("# TYPE taskq_tasks_total counter\n");
    expect(before).toContain("# TYPE taskq_task_duration_seconds histogram\n");

    expect((await runTaskq(["send", "-q", queue, "ok 1", "ok 2", "fail now", "ok 3"])).code).toBe(0);
    const after = await waitFor(
      async () => {
        const text = await scrape(url);
        return sample(text, `taskq_tasks_total{${q},outcome="done"}`) === 3 &&
          sample(text, `taskq_tasks_total{${q},outcome="dead"}`) === 1
          ? text
          : undefined;
      },
      15_000,
      "done 3 and dead 1 in /metrics",
    );
    expect(after).toContain(`taskq_tasks_total{${q},outcome="done"} 3\n`);
    expect(after).toContain(`taskq_tasks_total{${q},outcome="dead"} 1\n`);
    expect(sample(after, `taskq_tasks_total{${q},outcome="retry"}`)).toBe(0);
    expect(sample(after, `taskq_task_duration_seconds_count{${q}}`)).toBe(4);
    expect(sample(after, `taskq_task_duration_seconds_bucket{${q},le="+Inf"}`)).toBe(4);
    expect(sample(after, `taskq_task_duration_seconds_sum{${q}}`)).toBeGreaterThan(0);
    expect(sample(after, `taskq_tasks_in_flight{${q}}`)).toBe(0);
    expect(sample(after, `taskq_reconnects_total{${q}}`)).toBe(0);

    expect((await runTaskq(["send", "-q", queue, "block here"])).code).toBe(0);
    await waitFor(
      async () => sample(await scrape(url), `taskq_tasks_in_flight{${q}}`) === 1,
      10_000,
      "in_flight 1 while the task blocks",
    );
    // in_flight counts from the task's start, a moment before the handler logs it.
    await waitFor(() => h.lines().at(-1)?.body === "block here", 10_000, "the handler to log the blocking task");
    h.release();
    const released = await waitFor(
      async () => {
        const text = await scrape(url);
        return sample(text, `taskq_tasks_in_flight{${q}}`) === 0 &&
          sample(text, `taskq_tasks_total{${q},outcome="done"}`) === 4
          ? text
          : undefined;
      },
      10_000,
      "in_flight 0 after release",
    );
    expect(sample(released, `taskq_task_duration_seconds_count{${q}}`)).toBe(5);

    expect((await fetch(new URL("/", url))).status).toBe(404);

    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  test("a taken port: one line, exit 1, before the broker is tried", async () => {
    const holder = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
    try {
      // The broker URL is unreachable: reaching it first would exit 3.
      const r = await runTaskq(
        ["work", "--url", "amqp://guest:guest@127.0.0.1:1", "--metrics-port", String(holder.port)],
        { timeoutMs: 15_000 },
      );
      expect(r.code).toBe(1);
      expect(oneLineError(r.stderr)).toBe(
        `taskq: cannot serve metrics on 127.0.0.1:${holder.port}: the port is already in use (pick another --metrics-port)`,
      );
    } finally {
      holder.stop(true);
    }
  });

  test("an unreachable broker still exits 3 at once and frees the port", async () => {
    const port = freePort();
    const r = await runTaskq(["work", "--url", "amqp://guest:guest@127.0.0.1:1", "--metrics-port", String(port)], {
      timeoutMs: 15_000,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot reach the broker");
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  test.each<[string, string[], RegExp]>([
    ["port 0", ["--metrics-port", "0"], /--metrics-port.*must be from 1 to 65535, got 0/],
    ["port too big", ["--metrics-port", "65536"], /--metrics-port.*must be from 1 to 65535, got 65536/],
    ["port not a number", ["--metrics-port", "http"], /--metrics-port.*expected a whole number, got 'http'/],
    ["host without port", ["--metrics-host", "0.0.0.0"], /--metrics-host needs --metrics-port/],
    ["empty host", ["--metrics-port", "9464", "--metrics-host", ""], /--metrics-host must not be empty/],
  ])("bad value, %s: one line, exit 2", async (_label, argv, pattern) => {
    const r = await runTaskq(["work", "--url", "amqp://guest:guest@127.0.0.1:1", ...argv], { timeoutMs: 15_000 });
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(pattern);
  });
});
