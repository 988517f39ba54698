import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
/** Lines of a formatted file (biome.json): past this a file holding two ideas is split. */
const MAX_LINES = 250;
/** biome.json's lineWidth. */
const MAX_WIDTH = 120;

/**
 * Whether a file's opening comment (the comment lines before its first line of code) holds a line
 * `One idea: <why>`, saying why the file stays one though it is over MAX_LINES.
 */
function staysOneIdea(text: string): boolean {
  const opening: string[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!(t.startsWith("/*") || t.startsWith("*") || t.startsWith("//"))) break;
    opening.push(t.replace(/^(\/\*\*?|\*\/?|\/\/)\s*/, ""));
    if (t.endsWith("*/") && !t.startsWith("//")) break;
  }
  return opening.some((l) => /^One idea: \S.{20,}/.test(l));
}

/**
 * The 1-based numbers of lines over MAX_WIDTH where the text crossing the width is code or a
 * comment's words. Exempt: a line where a string or template literal (its whole extent, `${}`
 * included) or a URL runs across the width, since breaking it would change the text or the link;
 * the closing marks after a literal that ends at the width go with it.
 */
function wideCodeLines(text: string): number[] {
  const literal = [...literals(text)];
  for (const m of text.matchAll(/https?:\/\/\S+/g)) literal.push([m.index, m.index + m[0].length]);
  const wide: number[] = [];
  let start = 0;
  text.split("\n").forEach((line, i) => {
    const edge = start + MAX_WIDTH; // the first character past the width
    // A literal ending at the width, then only closing marks (`",` or `");`), crosses it too.
    const crosses = ([from, to]: [number, number]) =>
      from < edge && (to > edge || /^[\s),;\]}]*$/.test(line.slice(to - start)));
    if (line.length > MAX_WIDTH && !literal.some(crosses)) wide.push(i + 1);
    start += line.length + 1;
  });
  return wide;
}

/**
 * The [start, end) of each string and outermost template literal in TypeScript source, skipping
 * comments and regular expressions (a `/` after an operator, a bracket or `return` starts one).
 */
function literals(text: string): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  const quoted = (i: number, quote: string): number => {
    let j = i + 1;
    while (j < text.length && text[j] !== quote && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
    return j + 1;
  };
  const template = (i: number): number => {
    let j = i + 1;
    while (j < text.length && text[j] !== "`") {
      if (text[j] === "\\") j += 2;
      else if (text.startsWith("${", j)) j = code(j + 2, true) + 1;
      else j++;
    }
    return j + 1;
  };
  // Code from i to its end, or to the `}` closing a template's `${` when `inner`; returns where it stopped.
  const code = (i: number, inner: boolean): number => {
    let depth = 0;
    let j = i;
    let last = "(";
    while (j < text.length) {
      const c = text[j] as string;
      if (text.startsWith("//", j)) j = text.indexOf("\n", j) === -1 ? text.length : text.indexOf("\n", j);
      else if (text.startsWith("/*", j)) j = text.indexOf("*/", j + 2) + 2;
      else if (c === '"' || c === "'" || c === "`") {
        const end = c === "`" ? template(j) : quoted(j, c);
        if (!inner) found.push([j, end]);
        j = end;
        last = "a";
      } else if (c === "/" && (/[(,=:[!&|?{};+\-*%<>~^]/.test(last) || /\breturn\s*$/.test(text.slice(i, j)))) {
        j = quoted(j, "/");
        last = "a";
      } else {
        if (c === "{") depth++;
        if (c === "}" && depth-- === 0 && inner) return j;
        if (!/\s/.test(c)) last = c;
        j++;
      }
    }
    return j;
  };
  code(0, false);
  return found;
}
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

  test(`no file in src/ is over ${MAX_LINES} lines, unless its opening comment says why it stays one idea`, () => {
    const long = sources(join(ROOT, "src"))
      .map((file) => ({ file: relative(ROOT, file), text: readFileSync(file, "utf8") }))
      .filter((f) => f.text.split("\n").length - 1 > MAX_LINES && !staysOneIdea(f.text))
      .map((f) => f.file);
    expect(long).toEqual([]);
  });

  test(`no line in src/ is over ${MAX_WIDTH} characters, unless a string, a template or a URL crosses the width`, () => {
    const wide = sources(join(ROOT, "src")).flatMap((file) => {
      const text = readFileSync(file, "utf8");
      return wideCodeLines(text).map((line) => `${relative(ROOT, file)}:${line}`);
    });
    expect(wide).toEqual([]);
  });
});

test.each([
  ["/**\n * Queues.\n * One idea: the worker's life, its states and what each does.\n */\nx", true],
  ["// Queues.\n// One idea: the worker's life, its states and what each does.\nx", true],
  ["/**\n * Queues.\n */\n// One idea: later, not in the opening comment.\nx", false],
  ["/**\n * One idea:\n */\nx", false],
  ["/** Queues. */\nx", false],
])("staysOneIdea(%p): %p", (text, expected) => {
  expect(staysOneIdea(text)).toBe(expected);
});

test.each([
  [`const a = ${"1 + ".repeat(40)}1;`, [1]],
  [`const a = "${"x".repeat(130)}";`, []],
  [`throw new Error(\`${"x".repeat(100)} \${why} ${"y".repeat(30)}\`);`, []],
  [`// see https://example.com/${"x".repeat(130)}`, []],
  [`// ${"word ".repeat(30)}`, [1]],
  [`const a = "short"; ${"b(); ".repeat(30)}`, [1]],
  [`    f("${"x".repeat(112)}");`, []],
  [`    f("${"x".repeat(100)}", ${"y".repeat(30)});`, [1]],
])("wideCodeLines(%p): %p", (text, expected) => {
  expect(wideCodeLines(text)).toEqual(expected);
});
