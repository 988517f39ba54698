import { afterAll, expect, test } from "bun:test";
import { send, task, work } from "taskq";
import { BROKER_URL, drain, trackedQueues, waitFor } from "../support/broker.ts";

// A worker whose URL asks ?frameMax=8192: a retry copy's headers (a 30 kB stderr tail, a task's
// own 20 kB header) fit amqplib's 64 KiB table but not the frame, and the broker closed the
// copies' connection (501 frame_too_large) on every try, until a stop: the slot held, the task
// behind never run. Copies are now fitted to the frame the connection negotiated (copier.ts).

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

const url = (() => {
  const u = new URL(BROKER_URL);
  u.searchParams.set("frameMax", "8192");
  return u.toString();
})();

test.each([
  ["a 30 kB stderr tail", {}, "e".repeat(30_000)],
  ["20 kB of the task's own headers", { big: "x".repeat(20_000) }, "short"],
])(
  "?frameMax=8192, a failure with %s: its retry copy is cut to fit and the task behind it runs",
  async (_, headers, stderr) => {
    const queue = tracked.name("copy-fm", [1000]);
    await send({ queue, tasks: [task("fails", { headers }), "plain"] });
    const runs: string[] = [];
    const errors: string[] = [];
    const worker = await work(
      {
        url,
        queue,
        retry: { maxAttempts: 2, baseDelayMs: 1000 },
        reportEveryMs: 0,
        onEvent: (e) => {
          if (e.type === "copy-failed") errors.push(e.error);
        },
      },
      async (t) => {
        const body = t.body.toString();
        runs.push(`${body}#${t.attempt}`);
        if (body === "fails") return { ok: false, reason: "boom", stderr };
      },
    );
    try {
      await waitFor(() => runs.includes("plain#1"), 15_000, "the task behind the failed one to run");
      await waitFor(() => runs.includes("fails#2"), 15_000, "the retry copy to come back");
    } finally {
      worker.stop(); // returns at once: `done` resolves once the tasks in flight are settled (the dead copy published)
      await worker.done;
    }
    expect(errors).toEqual([]);
    const dead = await waitFor(async () => {
      const got = await drain(`${queue}.dead`);
      return got.length > 0 ? got : undefined;
    });
    expect(dead).toHaveLength(1);
    expect(String(dead[0]?.properties.headers?.["x-taskq-dropped"] ?? "")).toContain("left out to fit");
  },
  60_000,
);
