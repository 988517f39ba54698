/**
 * The package as users install it: `scripts/pack` (npm pack, its prepack compiling dist/lib/), the
 * tarball installed with `npm install` into a fresh project (dependencies from the registry), then
 * one consumer program (test/package/consumer.ts) run by Node 22, Node 24, Bun and Deno 2 against
 * the shared broker, type-checked against the installed declarations, and require()d from CommonJS.
 * Node and Deno come from npm into .tools/ once (scripts/lib.sh use_node, use_deno).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { send } from "taskq";
import { BROKER_URL, drain, readyCount, trackedQueues, waitFor } from "../support/broker.ts";

const ROOT = join(import.meta.dir, "..", "..");
const RUNTIMES = ["node22", "node24", "bun", "deno"] as const;
type Runtime = (typeof RUNTIMES)[number];
const command: Partial<Record<Runtime, string[]>> = {};
const tracked = trackedQueues();
const q = (label: string) => tracked.name(label, [100, 200]);
let work = ""; // the temporary project, and the tarball's own folder inside it
let tarball = "";

async function sh(script: string, cwd = ROOT): Promise<string> {
  const proc = Bun.spawn(["bash", "-c", script], { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${script} exited ${code}:\n${err}${out}`);
  return out.trim();
}

/** A runtime running a file of the project, with the broker in TASKQ_URL. */
function spawn(runtime: Runtime, args: string[]) {
  const cmd = command[runtime];
  if (!cmd) throw new Error(`${runtime} was not installed (see beforeAll)`);
  return Bun.spawn([...cmd, ...args], {
    cwd: join(work, "app"),
    env: { ...process.env, TASKQ_URL: BROKER_URL, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Runs to the end; its JSON lines and stderr. */
async function run(
  runtime: Runtime,
  args: string[],
): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> {
  const proc = spawn(runtime, args);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [out, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const lines = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, stderr };
}

beforeAll(async () => {
  // First run in a clone: Node 22, Node 24 and Deno download from npm (about 150 MB); then reused.
  const [node22, node24, deno] = (
    await sh(
      `source scripts/lib.sh && use_node 22 >&2 && echo "$NODE" && use_node 24 >&2 && echo "$NODE" && use_deno >&2 && echo "$DENO"`,
    )
  ).split("\n");
  if (!node22 || !node24 || !deno) throw new Error("use_node / use_deno printed no path");
  // Node 22 strips types behind a flag (default on from 23.6); Deno runs TypeScript itself.
  command.node22 = [node22, "--experimental-strip-types", "--no-warnings"];
  command.node24 = [node24];
  command.bun = [process.execPath];
  command.deno = [deno, "run", "--allow-net", "--allow-env", "--allow-read", "--quiet"];
  work = mkdtempSync(join(tmpdir(), "taskq-package-"));
  tarball = (await sh(`scripts/pack --out ${work}/tarball`)).split("\n").at(-1) ?? "";
  const app = join(work, "app");
  await sh(`mkdir -p ${app}`);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  // As a user would: the tarball and the types of their Node; the rest from the registry.
  await sh(`npm install --no-audit --no-fund --loglevel=error ${tarball} @types/node@22`, app);
  for (const file of ["consumer.ts", "require.cjs"]) copyFileSync(join(ROOT, "test", "package", file), join(app, file));
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2023",
        types: ["node"],
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        allowImportingTsExtensions: true,
      },
      files: ["consumer.ts"],
    }),
  );
}, 300_000);

afterAll(async () => {
  await tracked.deleteAll();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package (npm pack, npm install)", () => {
  test("the tarball holds the compiled library (ESM, .d.ts with TSDoc, source maps) and package.json; no sources, no binary", async () => {
    const files = (await sh(`tar tzf ${tarball}`)).split("\n").map((f) => f.replace(/^package\//, ""));
    expect(files).toContain("package.json");
    for (const f of ["index.js", "index.d.ts", "index.js.map"]) expect(files).toContain(`dist/lib/${f}`);
    expect(files.filter((f) => !f.startsWith("dist/lib/") && !["package.json", "README.md"].includes(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    const installed = join(work, "app", "node_modules", "taskq");
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(manifest.exports["."]).toEqual({
      types: "./dist/lib/index.d.ts",
      import: "./dist/lib/index.js",
      default: "./dist/lib/index.js",
    });
    expect(manifest.engines.node).toBe(">=22");
    expect(readFileSync(join(installed, "dist", "lib", "index.d.ts"), "utf8")).toContain("@example");
    // Nothing Bun-only on the library's path: its compiled JavaScript never names Bun.
    expect(await sh(`grep -rlE '\\bBun\\.' --include='*.js' dist/lib || true`, installed)).toBe("");
  });

  test("the consumer type-checks (tsc --noEmit, strict) against the installed declarations", async () => {
    const listed = await sh(`${join(ROOT, "node_modules", ".bin", "tsc")} -p . --listFilesOnly`, join(work, "app"));
    expect(listed).toContain("node_modules/taskq/dist/lib/index.d.ts");
    await sh(`${join(ROOT, "node_modules", ".bin", "tsc")} -p .`, join(work, "app")); // throws with tsc's errors
  });

  test.each(RUNTIMES)(
    "%s: send with confirms (text, bytes, JSON), work with acks, a failing task retried then dead-lettered, stop() draining",
    async (runtime) => {
      const queue = q(`pkg-${runtime}`);
      const { code, lines, stderr } = await run(runtime, ["consumer.ts", "main", queue]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(lines).toEqual([
        { step: "send", sent: 6, queueType: "classic" },
        {
          step: "work",
          done: ["json n=5 id=json-5", "ok 1", "ok 2", "ok 3", "ok 4"],
          settled: [
            "fail:dead:2",
            "fail:retry:1",
            "ok 1:acked:1",
            "ok 2:acked:1",
            "ok 3:acked:1",
            "ok 4:acked:1",
            '{"n":5}:acked:1',
          ],
        },
        { step: "drain", slowFinished: true, done: 6, failed: 1, retried: 1, state: "stopped" },
      ]);
      expect(await readyCount(queue)).toBe(0);
      expect((await drain(`${queue}.dead`)).map((m) => m.content.toString())).toEqual(["fail"]);
    },
  );

  test.each(RUNTIMES)(
    "%s: the worker killed mid-task (SIGKILL), the next one gets its task, redelivered",
    async (runtime) => {
      const queue = q(`pkg-kill-${runtime}`);
      await send({ queue, tasks: ["the task"] });
      const holder = spawn(runtime, ["consumer.ts", "hold", queue]);
      let out = "";
      const reader = (async () => {
        for await (const chunk of holder.stdout) out += new TextDecoder().decode(chunk);
      })();
      await waitFor(
        () => out.includes('"step":"holding"') || holder.exitCode !== null,
        20_000,
        `${runtime} holding its task`,
      );
      expect(JSON.parse(out.split("\n")[0] ?? "")).toEqual({
        step: "holding",
        body: "the task",
        redelivered: false,
        attempt: 1,
      });
      holder.kill("SIGKILL");
      await holder.exited;
      await reader;
      const { code, lines } = await run(runtime, ["consumer.ts", "take", queue]);
      expect(code).toBe(0);
      expect(lines).toEqual([
        { step: "took", body: "the task", redelivered: true, attempt: 2 },
        { step: "stopped", done: 1 },
      ]);
      expect(await readyCount(queue)).toBe(0);
    },
  );

  test.each(["node22", "node24"] as const)(
    '%s: require("taskq") from CommonJS (require of ESM, Node 22.12+)',
    async (runtime) => {
      const { code, lines, stderr } = await run(runtime, ["require.cjs"]);
      expect({ code, stderr: stderr.replace(/.*ExperimentalWarning.*\n|.*--trace-warnings.*\n/g, "") }).toEqual({
        code: 0,
        stderr: "",
      });
      expect(lines).toEqual([
        {
          exports: expect.arrayContaining(["TaskqError", "send", "work"]),
          same: true,
          send: "function",
          work: "function",
        },
      ]);
    },
  );
});
