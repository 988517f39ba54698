import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const PROGRAM = join(import.meta.dir, "..", "..", "support", "programs", "sync-lines.ts");

test("SyncLineWriter: a full non-blocking pipe (a reader 1 s late) delays the writes; every line arrives, exit 0", async () => {
  const LINES = 2000; // 2 MB: far past a pipe's 64 KiB
  const child = Bun.spawn([process.execPath, PROGRAM, String(LINES)], { stdout: "pipe", stderr: "pipe" });
  // The premise: fd 1 of the child is non-blocking (O_NONBLOCK, 04000 octal), so a full pipe answers EAGAIN.
  const flags = await waitForFlags(child.pid);
  expect(Number.parseInt(flags, 8) & 0o4000).toBe(0o4000);
  await Bun.sleep(1000);
  const text = await new Response(child.stdout).text();
  expect(await child.exited).toBe(0);
  expect(await new Response(child.stderr).text()).toBe("done\n");
  expect(text.length).toBe(LINES * 1000);
  expect(
    text
      .split("\n")
      .slice(0, -1)
      .every((l) => l.length === 999),
  ).toBe(true);
});

/** The flags of the child's fd 1 once it has touched process.stdout (it then blocks on a full pipe). */
async function waitForFlags(pid: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    try {
      const flags = /flags:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/1`, "utf8"))?.[1] ?? "0";
      if (Number.parseInt(flags, 8) & 0o4000) return flags;
    } catch {}
    await Bun.sleep(10);
  }
  return "0";
}
