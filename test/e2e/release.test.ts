import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };

const ROOT = join(import.meta.dir, "..", "..");
const OUT = join(ROOT, "dist", "release");
/** This machine as a release target; only its binary can be run here. */
const HOST = `${process.platform}-${process.arch}`;
const RUNNABLE = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"].includes(HOST);

async function run(
  cmd: string[],
  cwd = ROOT,
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("scripts/release", () => {
  // Building all four targets takes a few seconds more and 400 MB of disk: the suite builds this machine's only.
  test.skipIf(!RUNNABLE)(
    `--target ${HOST}: a binary that runs and says its commit, and a SHA256SUMS that checks`,
    async () => {
      const r = await run(["scripts/release", "--target", HOST], ROOT, 280_000);
      expect(r.code, r.stderr).toBe(0);
      const name = `taskq-${pkg.version}-${HOST}`;
      expect(r.stdout).toContain(name);
      expect(readdirSync(OUT).sort()).toEqual(["SHA256SUMS", name]);

      const commit = (await run(["git", "rev-parse", "--short", "HEAD"])).stdout.trim();
      expect(commit).toMatch(/^[0-9a-f]{7,}$/);
      const version = await run([join(OUT, name), "--version"]);
      expect(version).toEqual({ code: 0, stdout: `${pkg.version} (${commit})\n`, stderr: "" });

      const check = await run(["sha256sum", "-c", "SHA256SUMS"], OUT);
      expect(check).toEqual({ code: 0, stdout: `${name}: OK\n`, stderr: "" });
    },
    300_000,
  );

  test("an unknown target is refused before anything is built (exit 2)", async () => {
    const r = await run(["scripts/release", "--target", "windows-x64"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown target 'windows-x64'");
  });
});
