import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fromMono, mono, toMono } from "../../../src/util/mono.ts";
import { now } from "../../../src/util/clock.ts";

/**
 * Two processes spin on one shared page, each writing its latest mono() reading to its own slot and
 * checking the other's against a reading of its own taken just after: what the other wrote before
 * cannot be later (causality, no slack). With the two clocks offset by d, one side would see the
 * other "in the future" whenever they ran within d of each other; the closest pair seen either way
 * bounds d: |d| <= max(closest gap seen by each side).
 */
const SPIN = `
import { mono } from ${JSON.stringify(resolve(import.meta.dir, "../../../src/util/mono.ts"))};
const [file, mine, theirs, ms] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a)));
const slots = new Float64Array(Bun.mmap(file).buffer, 0, 2);
mono();
slots[mine] = mono();
while (slots[theirs] === 0) {}
let closest = Infinity, earliest = Infinity;
const end = mono() + ms;
for (let t = mono(); t < end; t = mono()) {
  slots[mine] = t;
  const other = slots[theirs];
  const gap = mono() - other;
  if (gap < closest && gap >= 0) closest = gap;
  if (gap < earliest) earliest = gap;
}
console.log(JSON.stringify({ closest, earliest }));
`;

test("mono(): the same instant read in two processes agrees within 0.1 ms", async () => {
  const dir = mkdtempSync(join(tmpdir(), "taskq-mono-"));
  try {
    const file = join(dir, "slots");
    writeFileSync(file, Buffer.alloc(4096));
    writeFileSync(join(dir, "spin.ts"), SPIN);
    const run = (mine: number) =>
      Bun.spawn([process.execPath, join(dir, "spin.ts"), file, String(mine), String(1 - mine), "1500"], {
        stdout: "pipe",
        stderr: "inherit",
      });
    const sides = await Promise.all(
      [run(0), run(1)].map(
        async (p) => JSON.parse(await new Response(p.stdout).text()) as { closest: number; earliest: number },
      ),
    );
    for (const side of sides) {
      expect(side.earliest).toBeGreaterThanOrEqual(0); // never saw the other's clock ahead of its own
      expect(side.closest).toBeLessThanOrEqual(0.1); // and came that close: the offset is at most this
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("toMono and fromMono convert a now() time both ways, to a nanosecond", () => {
  const t = now();
  expect(Math.abs(fromMono(toMono(t)) - t)).toBeLessThan(1e-6);
  // now() and mono() tick together: the same interval on both clocks
  const [a, b] = [now(), mono()];
  expect(Math.abs(toMono(a) - b)).toBeLessThan(50); // read one after the other: apart by microseconds, unless preempted
});
