import { afterAll, expect, test } from "bun:test";
import { trackedQueues, waitFor, withChannel } from "../support/broker.ts";
import { TaskqProcess } from "../support/taskq.ts";

const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

// With --workers the first sample waits for the workers' reports (REPORTS_LISTEN_MS); the next
// one still comes an interval after it, not a few ms later with a rate over those ms.
test.each([["--json"], []])(
  "status --watch 1s --workers %s into a pipe: samples an interval apart from the first",
  async (...args: string[]) => {
    const queue = tracked.name("watch-first");
    await withChannel((ch) => ch.assertQueue(queue, { durable: true }));
    const watch = new TaskqProcess(["status", "-q", queue, "--no-management", "--workers", "--watch", "1s", ...args]);
    try {
      await waitFor(() => watch.lines.length >= 3, 20_000, "three samples");
    } finally {
      watch.kill("SIGINT");
    }
    expect(await watch.exited).toBe(0);
    const times = args.length
      ? watch.lines.slice(0, 3).map((l) => Date.parse((JSON.parse(l) as { time: string }).time))
      : watch.lines.slice(0, 3).map((l) => Date.parse(l.split(" ")[0] as string));
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(500); // before: 16-32 ms; the interval is kept from start to start, each take varying;
  },
  60_000,
);
