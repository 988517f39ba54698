import { expect, test } from "bun:test";
import { join } from "node:path";
import { BROKER_URL, queueExists } from "../support/broker.ts";

// scripts/soak's worker part at a small scale: 6,000 tasks through one in-process worker, a tenth
// failing straight to <queue>.dead, sampled each 600 settled (forced GC, live abort listeners, heap).
const ROOT = join(import.meta.dir, "..", "..");
const TASKS = 6000;

interface Sample {
  count: number;
  listeners: number;
  heapMB: number;
}
interface WorkerPart {
  queue: string;
  tasks: number;
  done: number;
  dead: number;
  left: number;
  samples: Sample[];
}

async function soak(...extra: string[]): Promise<{ code: number; worker: WorkerPart; stderr: string }> {
  const proc = Bun.spawn(
    [process.execPath, "scripts/soak.ts", "--only", "worker", "--tasks", String(TASKS), "--json", ...extra],
    {
      cwd: ROOT,
      env: { ...process.env, TASKQ_URL: BROKER_URL },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill("SIGKILL"), 35_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const last = stdout.trim().split("\n").at(-1) ?? "";
  if (!last.startsWith("{")) throw new Error(`soak printed no JSON (exit ${code}): ${stdout}${stderr}`);
  return { code, worker: (JSON.parse(last) as { worker: WorkerPart }).worker, stderr };
}

/** The same rules as scripts/soak, computed here from its samples. */
function growth(samples: Sample[]): { listeners: number; heapMB: number; heapLimitMB: number } {
  const first = samples[0];
  const ref = samples[1];
  const last = samples.at(-1);
  if (!first || !ref || !last) throw new Error(`too few samples: ${samples.length}`);
  return { listeners: last.listeners - first.listeners, heapMB: last.heapMB, heapLimitMB: 1.5 * ref.heapMB + 10 };
}

test("a worker over 6,000 tasks, a tenth failing: every task done or dead, abort listeners flat, heap bounded, queues deleted", async () => {
  const { code, worker, stderr } = await soak();
  expect(worker.samples.map((s) => s.count)).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 600));
  expect(worker.done + worker.dead).toBe(TASKS);
  expect(worker.dead).toBe(TASKS / 10);
  expect(worker.left).toBe(0);
  const g = growth(worker.samples);
  expect(g.listeners).toBeLessThanOrEqual(5);
  expect(g.heapMB).toBeLessThanOrEqual(g.heapLimitMB);
  expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" }); // its stderr when it failed
  for (const q of [worker.queue, `${worker.queue}.dead`]) expect(await queueExists(q)).toBe(false);
}, 40_000);

test("the listener count sees a leak: a handler that leaves one on its signal per failed task shows ~1 per failure, and the soak fails", async () => {
  const { code, worker } = await soak("--plant-leak");
  expect(worker.done + worker.dead).toBe(TASKS);
  // 600 failures between the first sample and the last: 540 more listeners, give or take those in flight.
  expect(growth(worker.samples).listeners).toBeGreaterThanOrEqual(530);
  expect(code).toBe(1);
}, 40_000);
