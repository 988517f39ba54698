import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { htmlReport } from "../../src/bench/html.ts";
import type { RunResult } from "../../src/bench/run-result.ts";
import { MAX_TASK_BARS } from "../../src/bench/timeline.ts";
import { dumpDom, pngSize, screenshot } from "../support/chromium.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

const dir = mkdtempSync(join(tmpdir(), "taskq-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TASKS = 80;
const PREFETCHES = [1, 20];

/** Each timeline section of a page: its prefetch and how many task bars and worker rows it holds. */
function timelines(page: string): Array<{ prefetch: number; bars: number; workers: string[] }> {
  return page
    .split(/<section class="timeline"/)
    .slice(1)
    .map((part) => {
      const section = part.slice(0, part.indexOf("</section>"));
      return {
        prefetch: Number(/data-prefetch="(\d+)"/.exec(section)?.[1]),
        bars: section.match(/class="task-bar"/g)?.length ?? 0,
        workers: [...section.matchAll(/class="worker-label"[^>]*>([^<]*)</g)].map((m) => m[1] as string),
      };
    });
}

/** What would make a browser fetch something: a URL in src/href, a CSS import or url(), a script, a frame. */
function networkLoads(page: string): string[] {
  const patterns = [
    /\b(?:src|href|xlink:href|srcset|poster|action|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?\/\/[^"'\s>]*/gi,
    /@import[^;]*/gi,
    /url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?\/\/[^)]*\)/gi,
    /<(?:script|link|img|iframe|object|embed|video|audio|source)\b[^>]*>/gi,
  ];
  return patterns.flatMap((p) => page.match(p) ?? []);
}

describe("taskq bench --report", () => {
  const file = join(dir, "bench.html");
  // One bench for the tests that look at its page, run by whichever comes first.
  let bench: ReturnType<typeof runTaskq> | undefined;
  const benchOnce = () =>
    (bench ??= runTaskq(
      [
        "bench",
        "--tasks",
        String(TASKS),
        "--workers",
        "2",
        "--work",
        "mix:80%1ms,20%5ms",
        "--prefetch",
        PREFETCHES.join(","),
        "--report",
        file,
      ],
      { timeoutMs: 60_000 },
    ));

  test("writes one self-contained page: parameters, a column per prefetch, a timeline per round with a bar per task", async () => {
    const r = await benchOnce();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`report: ${file}`);
    const page = readFileSync(file, "utf8");
    expect(networkLoads(page)).toEqual([]);
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    // A <style> element does not decode entities: the CSS must be there as written.
    const css = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? "";
    expect(css).toContain('"Segoe UI"');
    expect(css).not.toContain("&quot;");
    for (const text of [
      "mix:80%1ms,20%5ms",
      "seed",
      "host",
      "date",
      ">2<",
      `>${TASKS}<`,
      "Jain fairness (busy)",
      "wait p50/p95/p99 (ms)",
      "worker 2: tasks / busy ms",
      "Latency percentiles",
    ])
      expect(page).toContain(text);
    for (const p of PREFETCHES) expect(page).toMatch(new RegExp(`prefetch ${p}\\b`));
    expect(timelines(page)).toEqual(
      PREFETCHES.map((prefetch) => ({ prefetch, bars: TASKS, workers: ["worker 1", "worker 2"] })),
    );
  }, 90_000);

  test("Chromium renders it: a non-blank screenshot, and the rendered DOM holds every round, every worker and every task", async () => {
    expect((await benchOnce()).code).toBe(0);
    const png = join(dir, "shot.png");
    await screenshot(file, png, { width: 1400, height: 2000 });
    const bytes = readFileSync(png);
    expect(pngSize(bytes)).toEqual({ width: 1400, height: 2000 });
    // A blank page of that size compresses to a few KB; tables, text and bars need far more.
    expect(statSync(png).size).toBeGreaterThan(30_000);

    const dom = await dumpDom(file);
    for (const text of ["prefetch 1", "prefetch 20", "worker 1", "worker 2", "ideal makespan (ms)"])
      expect(dom).toContain(text);
    expect(timelines(dom)).toEqual(
      PREFETCHES.map((prefetch) => ({ prefetch, bars: TASKS, workers: ["worker 1", "worker 2"] })),
    );
    expect(dom.match(/class="latency-bar"/g)?.length).toBe(2 * 4 * PREFETCHES.length);
  }, 90_000);

  test("with --json and --rounds: the JSON runs carry no timeline; the page draws the first round of each prefetch and says so", async () => {
    const both = join(dir, "json.html");
    const r = await runTaskq(
      [
        "bench",
        "--tasks",
        "20",
        "--workers",
        "1",
        "--work",
        "1ms",
        "--prefetch",
        "1,5",
        "--rounds",
        "2",
        "--json",
        "--report",
        both,
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const doc = JSON.parse(r.stdout) as {
      runs: Array<Record<string, unknown>>;
      medians: Array<Record<string, unknown>>;
    };
    expect(doc.runs).toHaveLength(4);
    for (const run of [...doc.runs, ...doc.medians]) expect(Object.keys(run)).not.toContain("timeline");
    const page = readFileSync(both, "utf8");
    expect(page).toContain("Medians of 2 rounds");
    expect(page).toContain("Each timeline shows the first of the 2 rounds");
    expect(page.match(/round 1 of 2/g)?.length).toBe(2);
    expect(timelines(page).map((t) => [t.prefetch, t.bars])).toEqual([
      [1, 20],
      [5, 20],
    ]);
  }, 90_000);

  test.each([
    ["a missing directory", () => join(dir, "no-such-dir", "bench.html"), /no such directory/],
    ["a directory", () => dir, /is a directory/],
  ])(
    "an unwritable --report (%s): one-line usage error before anything starts, exit 2",
    async (_what, path, reason) => {
      // The broker is unreachable on purpose: the path is checked first, so the exit is 2, not 3.
      const r = await runTaskq([
        "bench",
        "--url",
        "amqp://127.0.0.1:1",
        "--connect-timeout",
        "200ms",
        "--report",
        path(),
      ]);
      expect(r.code).toBe(2);
      expect(oneLineError(r.stderr)).toMatch(new RegExp(`--report '.*': cannot write it \\(${reason.source}\\)`));
    },
  );

  test("a bench that fails leaves no report file behind", async () => {
    const path = join(dir, "never.html");
    const r = await runTaskq(["bench", "--url", "amqp://127.0.0.1:1", "--connect-timeout", "200ms", "--report", path]);
    expect(r.code).toBe(3);
    expect(existsSync(path)).toBe(false);
  });
});

describe("htmlReport", () => {
  const run = (prefetch: number): RunResult => ({
    prefetch,
    workers: 1,
    tasks: 2,
    work: `mix:<script>alert("x")</script>`,
    throughput: 100,
    makespanMs: 20,
    idealMs: 10,
    efficiency: 0.5,
    jain: 1,
    latencyMs: { wait: { p50: 1, p95: 2, p99: 3, max: 4 }, total: { p50: 5, p95: 6, p99: 7, max: 8 } },
    gapMs: { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
    perWorker: [{ tasks: 2, busyMs: 10 }],
    missing: 0,
    duplicates: 0,
    chaos: null,
    kills: { worker: 0, node: 0 },
    freezes: 0,
    redeliveries: 0,
    resent: 0,
    faults: [],
    failoverMs: null,
    publishRate: 1000,
    confirmMs: 2,
    missingIds: [],
    duplicateIds: [],
    timeline: [
      { task: 1, worker: 0, start: 1, end: 6 },
      { task: 2, worker: 0, start: 6, end: 20 },
    ],
  });

  test("escapes everything it interpolates", () => {
    const page = htmlReport([run(1)], [run(1)], {
      tasks: 2,
      workers: 1,
      work: `mix:<script>alert("x")</script>`,
      seed: 1,
      rounds: 1,
      prefetches: [1],
      queueType: "classic",
      chaos: null,
      startedAt: new Date(0),
      host: `"><img src=x onerror=alert(1)>`,
      version: "0.1.0 (<b>)",
      runtime: "Bun & friends",
    });
    expect(page).not.toContain("<script");
    expect(page).not.toContain("<img");
    expect(page).not.toContain("<b>");
    expect(page).toContain("mix:&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(page).toContain("Bun &amp; friends");
    expect(page).toContain("1970-01-01 00:00:00 UTC");
  });

  test("a round of more than MAX_TASK_BARS tasks is drawn as busy spans, and says so", () => {
    const big = run(1);
    big.timeline = Array.from({ length: MAX_TASK_BARS + 1 }, (_, i) => ({
      task: i + 1,
      worker: 0,
      start: i * 0.001,
      end: i * 0.001 + 0.0005,
    }));
    const page = htmlReport([big], [big], {
      tasks: MAX_TASK_BARS + 1,
      workers: 1,
      work: "0",
      seed: 1,
      rounds: 1,
      prefetches: [1],
      queueType: "classic",
      chaos: null,
      startedAt: new Date(0),
      host: "h",
      version: "v",
      runtime: "r",
    });
    expect(page).not.toContain('class="task-bar"');
    expect(page.match(/class="busy-span"/g)?.length).toBe(1);
    expect(page).toContain(`more than ${MAX_TASK_BARS} tasks: drawn as busy spans`);
  });

  test("under chaos: each kill is marked where it happened (worker: its row; node: every row, and a band until it was back)", () => {
    const chaotic: RunResult = {
      ...run(1),
      workers: 2,
      perWorker: [
        { tasks: 1, busyMs: 5 },
        { tasks: 1, busyMs: 14 },
      ],
      chaos: "kill-worker:500ms,kill-node:3s",
      kills: { worker: 2, node: 1 },
      redeliveries: 3,
      faults: [
        { kind: "worker", target: 2, at: 4, back: 9 },
        { kind: "node", target: 3, at: 10, back: 18 },
        { kind: "worker", target: 1, at: 19 },
      ],
    };
    const meta = {
      tasks: 2,
      workers: 2,
      work: "0",
      seed: 1,
      rounds: 1,
      prefetches: [1],
      queueType: "quorum",
      chaos: chaotic.chaos,
      startedAt: new Date(0),
      host: "h",
      version: "v",
      runtime: "r",
    };
    const page = htmlReport([chaotic], [chaotic], meta);
    const marks = [
      ...page.matchAll(/<g class="kill kill-(worker|node)" data-kind="\w+" data-target="(\d+)" data-at="([\d.]+)">/g),
    ].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    expect(marks).toEqual([
      ["worker", 2, 4],
      ["node", 3, 10],
      ["worker", 1, 19],
    ]);
    for (const label of [
      "✕ w2",
      "✕ node 3",
      "✕ w1",
      "worker 2 killed (SIGKILL) at 4 ms",
      "node 3 killed (kill -9) at 10 ms, started again at 18 ms",
      "a new worker took its row, consuming 5 ms later",
      "not consuming before the round ended",
    ])
      expect(page).toContain(label);
    expect(page.match(/class="node-down"/g)?.length).toBe(1);
    expect(page).toContain("2 worker kill(s)");
    expect(page).toContain("1 node kill(s), 3 redelivered");
    expect(page).toContain("<dt>chaos</dt><dd>kill-worker:500ms,kill-node:3s</dd>");
    expect(page).toContain("<dt>queue type</dt><dd>quorum</dd>");
    for (const row of ["kills: workers / nodes", "redeliveries (attempt &gt; 1)", "re-sent after a sender reconnect"])
      expect(page).toContain(row);
    // Duplicates are expected under chaos (at least once): not flagged as a failed round.
    expect(htmlReport([{ ...chaotic, duplicates: 2 }], [{ ...chaotic, duplicates: 2 }], meta)).not.toContain(
      '<p class="bad">',
    );
    expect(htmlReport([{ ...chaotic, missing: 1 }], [{ ...chaotic, missing: 1 }], meta)).toContain(
      "(tasks lost under chaos)",
    );
    // Without chaos: no marks, no chaos rows.
    const plain = htmlReport([run(1)], [run(1)], { ...meta, chaos: null, queueType: "classic" });
    expect(plain).not.toContain('class="kill');
    expect(plain).not.toContain("kills: workers / nodes");
  });

  test("a node freeze: a band until it answered again, its count, and the failover in the table", () => {
    const frozen: RunResult = {
      ...run(1),
      chaos: "freeze-node:10s",
      freezes: 1,
      faults: [{ kind: "freeze", target: 2, at: 5, back: 15 }],
      failoverMs: { p50: 6100, max: 7200, workers: 2, unmeasured: 0 },
    };
    const page = htmlReport([frozen], [frozen], {
      tasks: 2,
      workers: 1,
      work: "0",
      seed: 1,
      rounds: 1,
      prefetches: [1],
      queueType: "quorum",
      chaos: frozen.chaos,
      startedAt: new Date(0),
      host: "h",
      version: "v",
      runtime: "r",
    });
    expect(page).toContain('<g class="kill kill-freeze" data-kind="freeze" data-target="2" data-at="5.0">');
    for (const text of [
      "node 2 frozen (SIGSTOP) at 5 ms, thawed at 15 ms",
      "❄ node 2",
      "1 node freeze(s)",
      "node freezes (SIGSTOP)",
      "6100 / 7200 (2)",
    ])
      expect(page).toContain(text);
    expect(page.match(/class="node-down"/g)?.length).toBe(1);
  });
});
