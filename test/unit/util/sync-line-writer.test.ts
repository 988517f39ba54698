import { expect, test } from "bun:test";
import { join } from "node:path";

const PROGRAM = join(import.meta.dir, "..", "..", "support", "programs", "sync-lines.ts");

test("SyncLineWriter: a reader that stalls 1 s on a full non-blocking pipe delays the writes; every line arrives, exit 0", async () => {
  const LINES = 2000; // 2 MB: far past a pipe's 64 KiB
  // The reader (sh) sleeps before reading: the writer meets a full pipe and must wait, not fail (EAGAIN). The
  // program touches process.stdout first, which makes Bun set fd 1 non-blocking, as `taskq work --json` does.
  const started = Date.now();
  const pipeline = Bun.spawn(
    [
      "sh",
      "-c",
      '{ "$0" "$1" "$2"; echo "exit $?" >&2; } | { sleep 1; wc -c; }',
      process.execPath,
      PROGRAM,
      `${LINES}`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(pipeline.stdout).text(),
    new Response(pipeline.stderr).text(),
    pipeline.exited,
  ]);
  expect(code).toBe(0);
  expect(out.trim()).toBe(String(LINES * 1000));
  const [, doneAt] = /^done (\d+)\nexit 0\n$/.exec(err) ?? [];
  // The writer finished only after the reader woke: it waited on the full pipe.
  expect(Number(doneAt) - started).toBeGreaterThanOrEqual(900);
});
