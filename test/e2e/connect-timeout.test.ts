import { expect, test } from "bun:test";
import { oneLineError, runTaskq } from "../support/taskq.ts";

// A refused port is retried with backoff until --connect-timeout, the last try at the deadline: the
// lower bound is the correctness check (it gave up after 2.0-4.6 s of 5 s when a backoff would pass
// the deadline), not a speed target.
test("send --connect-timeout 3s against a refused port: tried until 3 s, then one line and exit 3", async () => {
  const started = performance.now();
  const r = await runTaskq(["send", "--url", "amqp://guest:guest@127.0.0.1:1", "--connect-timeout", "3s", "x"]);
  const elapsedMs = performance.now() - started;
  expect(r.code).toBe(3);
  expect(oneLineError(r.stderr)).toMatch(/^taskq: cannot reach the broker at 127\.0\.0\.1:1: connection refused/);
  expect(elapsedMs).toBeGreaterThanOrEqual(2900);
});
