import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { runTaskq } from "../support/taskq.ts";

// The README is the short guide; docs/ holds the rest. These checks keep the two honest: every flag
// the binary takes is documented in its command's section of docs/commands.md, no flag lingers
// there after the CLI dropped it, the README stays short, and no relative link points nowhere.

const ROOT = join(import.meta.dir, "..", "..");
const COMMANDS_MD = join(ROOT, "docs", "commands.md");
const COMMANDS = [
  ["send"],
  ["work"],
  ["status"],
  ["dead", "list"],
  ["dead", "requeue"],
  ["dead", "purge"],
  ["purge"],
  ["remove"],
  ["bench"],
  ["completions"],
];
/** Sections of docs/commands.md whose flags belong to more than one command. */
const EVERY_COMMAND = "Flags on every command";
const BROKER_FLAGS = "Broker flags";

/** The long flags in a command's --help (Commander puts each option at two spaces' indent). */
function helpFlags(help: string): Set<string> {
  const options = help.slice(help.indexOf("\nOptions:"));
  return new Set([...options.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] as string));
}

/** Lines outside fenced code blocks, each with whether it is inside one. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** `## ` sections of a page: heading text (backticks dropped) -> its lines, subsections included. */
function sections(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of prose(markdown)) {
    const h2 = /^## (.+)$/.exec(line);
    if (h2) {
      current = [];
      out.set((h2[1] as string).replaceAll("`", "").trim(), current);
    } else if (/^# /.test(line)) current = undefined;
    else current?.push(line);
  }
  return out;
}

/** The long flags a section's table rows name in their first cell (descriptions may mention others). */
function tableFlags(lines: string[]): Set<string> {
  const flags = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith("|") || /^\|\s*-{3}/.test(line)) continue;
    const first = line.split(/(?<!\\)\|/)[1] ?? "";
    for (const m of first.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*)/g)) flags.add(m[1] as string);
  }
  return flags;
}

function commandSection(all: Map<string, string[]>, command: string[]): string[] {
  const name = `taskq ${command.join(" ")}`;
  const found = [...all.entries()].filter(([heading]) => heading === name || heading.startsWith(`${name} `));
  if (found.length !== 1)
    throw new Error(`docs/commands.md: expected one section "## \`${name}\`", found ${found.length}`);
  return found[0]?.[1] ?? [];
}

const all = sections(readFileSync(COMMANDS_MD, "utf8"));
const every = tableFlags(all.get(EVERY_COMMAND) ?? []);
const broker = tableFlags(all.get(BROKER_FLAGS) ?? []);
const helps = new Map<string, Set<string>>();
for (const command of COMMANDS) {
  const r = await runTaskq([...command, "--help"]);
  if (r.code !== 0) throw new Error(`taskq ${command.join(" ")} --help exited ${r.code}: ${r.stderr}`);
  helps.set(command.join(" "), helpFlags(r.stdout));
}

describe("docs/commands.md documents exactly the flags each command takes", () => {
  test("the shared sections exist and name flags", () => {
    expect([...every].sort()).toEqual(["--help", "--version"]);
    expect(broker.size).toBeGreaterThan(0);
  });

  test.each(COMMANDS.map((c) => [c.join(" "), c] as const))(
    "taskq %s: every flag in --help is in its section, and every flag there is in --help",
    (name, command) => {
      const help = helps.get(name) ?? new Set<string>();
      expect(help.size).toBeGreaterThan(0);
      const own = tableFlags(commandSection(all, [...command]));
      const shared = [...every, ...(help.has("--url") ? broker : [])];
      const documented = new Set([...own, ...shared]);

      expect({ name, undocumented: [...help].filter((f) => !documented.has(f)) }).toEqual({ name, undocumented: [] });
      expect({ name, notInHelp: [...own].filter((f) => !help.has(f)) }).toEqual({ name, notInHelp: [] });
      expect({ name, sharedNotInHelp: shared.filter((f) => !help.has(f)) }).toEqual({ name, sharedNotInHelp: [] });
    },
  );
});

test("README.md is a short guide: at most 250 lines, opening with scripts/bench and scripts/test", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(250);
  const lines = readme.split("\n");
  expect(lines.slice(0, 6).join("\n")).toMatch(
    /^# taskq\n\n```sh\nscripts\/bench {3}# .+\nscripts\/test {4}# .+\n```$/,
  );
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown)) {
    const h = /^#{1,6} (.+)$/.exec(line);
    if (!h) continue;
    const base = slug(h[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

const pages = [
  join(ROOT, "README.md"),
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(ROOT, "docs", f)),
];

test.each(pages.map((p) => [relative(ROOT, p), p]))(
  "%s: every relative link points to a file that exists (and a heading that does)",
  (_name, page) => {
    const broken: string[] = [];
    const text = prose(readFileSync(page, "utf8"))
      .join("\n")
      .replace(/`[^`\n]*`/g, " "); // code spans hold no links
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path = "", anchor] = target.split("#");
      const file = path === "" ? page : resolve(dirname(page), path);
      if (!existsSync(file)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (
        anchor !== undefined &&
        statSync(file).isFile() &&
        file.endsWith(".md") &&
        !anchors(readFileSync(file, "utf8")).has(anchor)
      )
        broken.push(`${target}: no such heading`);
    }
    expect(broken).toEqual([]);
  },
);
