import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// `npm pack` in a fresh clone, with no node_modules: the prepack finds TypeScript (a
// devDependency, installed then) instead of failing with `sh: 1: tsc: not found`.
const ROOT = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "taskq-fresh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sh(script: string, cwd: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["bash", "-c", script], { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out + err };
}

test("npm pack in a fresh clone (no node_modules): the tarball holds the compiled library", async () => {
  const clone = join(dir, "taskq");
  // The working tree's package.json and sources as committed, without node_modules or dist.
  expect((await sh(`git clone -q "${ROOT}" "${clone}" && cp "${ROOT}/package.json" "${clone}/"`, dir)).code).toBe(0);
  const pack = await sh("npm pack --loglevel=error", clone);
  expect(pack.out).not.toContain("tsc: not found");
  expect(pack.code).toBe(0);
  const listing = await sh("tar -tzf taskq-*.tgz", clone);
  expect(listing.out).toContain("package/dist/lib/index.js");
  expect(listing.out).toContain("package/dist/lib/index.d.ts");
  expect(listing.out).toContain("package/dist/lib/library/client.js");
}, 400_000);
