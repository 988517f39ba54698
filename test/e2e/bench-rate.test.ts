import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dumpDom, pngSize, screenshot } from "../support/chromium.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

interface Rate {
  target: number;
  tasks: number;
  reached: number;
  sentRate: number;
  latencyMs: { p50: number; p95: number; p99: number; p999: number; max: number };
  senderLateMs: { p50: number; p99: number; max: number };
  maxDepth: number;
  depth: Array<{ atMs: number; ready: number }>;
  utilisation: number;
  missing: number;
  duplicates: number;
}

const dir = mkdtempSync(join(tmpdir(), "taskq-rate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RATES = [100, 300];
/** 1.5 s per rate: 0.5 s of warm-up, 1 s counted. */
const SHORT = ["--rate", RATES.join(","), "--rate-duration", "1s", "--rate-warmup", "500ms", "--workers", "2"];

/** What every rate of a run must show, whatever the machine's speed. */
function checkRates(rates: Rate[], warmupMs = 500): void {
  expect(rates.map((r) => [r.target, r.tasks])).toEqual(RATES.map((rate) => [rate, rate]));
  for (const r of rates) {
    expect([r.missing, r.duplicates]).toEqual([0, 0]);
    const l = r.latencyMs;
    expect(l.p50).toBeGreaterThan(0);
    expect([l.p50 <= l.p95, l.p95 <= l.p99, l.p99 <= l.p999, l.p999 <= l.max]).toEqual([true, true, true, true]);
    // The sender publishes no task before its time: it is late by zero or more.
    expect(r.senderLateMs.p50).toBeGreaterThanOrEqual(0);
    expect(r.reached).toBeGreaterThan(0);
    expect(r.sentRate).toBeGreaterThan(0);
    // Sampled every 200 ms over 1.5 s and more.
    expect(r.depth.length).toBeGreaterThanOrEqual(5);
    // The deepest sample after the warm-up (counted as every other figure; the plot shows the warm-up too).
    expect(r.maxDepth).toBe(Math.max(0, ...r.depth.filter((d) => d.atMs >= warmupMs).map((d) => d.ready)));
    expect(r.utilisation).toBeGreaterThanOrEqual(0);
    expect(r.utilisation).toBeLessThanOrEqual(1);
  }
}

describe("taskq bench --rate", () => {
  test.each(["classic", "quorum"])(
    "on a %s queue: one JSON object per rate, every task done once, latency from the intended send time",
    async (queueType) => {
      const r = await runTaskq(["bench", ...SHORT, "--queue-type", queueType, "--work", "1ms", "--json"], {
        timeoutMs: 60_000,
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout) as {
        mode: string;
        queueType: string;
        workers: number;
        prefetch: number;
        work: string;
        warmupMs: number;
        durationMs: number;
        rates: Rate[];
      };
      expect([doc.mode, doc.queueType, doc.workers, doc.prefetch, doc.work, doc.warmupMs, doc.durationMs]).toEqual([
        "rate",
        queueType,
        2,
        1,
        "1ms",
        500,
        1000,
      ]);
      checkRates(doc.rates);
      // 1 ms of work per task: the workers were busy some of the time.
      for (const rate of doc.rates) expect(rate.utilisation).toBeGreaterThan(0);
    },
    90_000,
  );

  test("the table and the report: Chromium draws latency against the rate (a line per percentile) and depth over time per rate", async () => {
    const file = join(dir, "rate.html");
    const r = await runTaskq(["bench", ...SHORT, "--report", file], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const [title, header, ...rows] = r.stdout.trim().split("\n");
    expect(title).toContain(
      "taskq bench --rate: work 0, 2 workers, prefetch 1, classic queue, 1 s per rate after a 0.5 s warm-up",
    );
    expect(header?.trim().split(/\s{2,}/)).toEqual([
      "target/s",
      "reached/s",
      "sent/s",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "p99.9 ms",
      "max ms",
      "sender late p99 ms",
      "max depth",
      "utilisation",
      "missing/dup",
    ]);
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual(RATES.map(String));
    for (const row of rows) expect(row.trim().split(/\s+/).pop()).toBe("0/0");
    expect(r.stderr).toContain(`report: ${file}`);
    const page = readFileSync(file, "utf8");
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );

    const dom = await dumpDom(file);
    const chart = /<svg class="rate-chart"[\s\S]*?<\/svg>/.exec(dom)?.[0] ?? "";
    expect([...chart.matchAll(/data-series="([^"]+)"/g)].map((m) => m[1])).toEqual([
      "p50",
      "p95",
      "p99",
      "p99.9",
      "max",
    ]);
    // A point per rate on each line.
    expect(chart.match(/class="rate-point"/g)?.length).toBe(5 * RATES.length);
    for (const rate of RATES) expect(chart).toContain(`p99 at ${rate} tasks/s:`);
    const depths = [
      ...dom.matchAll(
        /<svg class="depth-chart" data-rate="(\d+)"[\s\S]*?<polyline class="depth-line" points="([^"]*)"/g,
      ),
    ];
    expect(depths.map((m) => Number(m[1]))).toEqual(RATES);
    for (const m of depths) expect((m[2] ?? "").split(" ").length).toBeGreaterThanOrEqual(5);

    const png = join(dir, "rate.png");
    await screenshot(file, png, { width: 1200, height: 1400 });
    expect(pngSize(readFileSync(png))).toEqual({ width: 1200, height: 1400 });
    // A blank page of that size compresses to a few KB; the table, lines and axes need far more.
    expect(statSync(png).size).toBeGreaterThan(30_000);
  }, 120_000);

  test.each([
    [
      ["--rate", "500", "--tasks", "100"],
      "taskq: --rate sends each rate for --rate-duration, not --tasks N: drop --tasks",
    ],
    [["--rate", "500,1000", "--prefetch", "1,100"], "taskq: --rate measures one --prefetch value at a time, got 1,100"],
    [
      ["--rate", "fast"],
      "taskq: --rate 'fast': each rate must be a number of tasks per second above 0 and at most 1000000",
    ],
    [["--rate-duration", "5s"], "taskq: --rate-duration is for --rate (the open loop)"],
  ])("bench %j: one line, exit 2, before connecting", async (args, line) => {
    const r = await runTaskq(["bench", ...args], { env: { TASKQ_URL: "amqp://127.0.0.1:1" } });
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toBe(line);
  });
});
