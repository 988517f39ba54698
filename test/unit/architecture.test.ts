import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const CRUISER = join(ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruiser.mjs");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

describe("the shape of src/ (docs/architecture.md)", () => {
  test("dependency-cruiser finds no violation of .dependency-cruiser.cjs: no cycle, amqplib only in core, each core folder importing only those below it", async () => {
    // Bun runs it: dependency-cruiser refuses Node 20, and Bun reports a supported version.
    const proc = Bun.spawn(
      [process.execPath, CRUISER, "src", "--config", ".dependency-cruiser.cjs", "--output-type", "json"],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await proc.exited;
    const result = JSON.parse(out) as {
      summary: { violations: Array<{ rule: { name: string }; from: string; to: string }>; totalCruised: number };
    };
    expect(result.summary.totalCruised).toBeGreaterThan(50); // it read the sources (a parser missing would read none)
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
    void err;
  }, 60_000);

  test("no file in src/ is over 200 lines", () => {
    const long = sources(join(ROOT, "src"))
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, "utf8").split("\n").length - 1 }))
      .filter((f) => f.lines > 200);
    expect(long).toEqual([]);
  });
});
