import { describe, expect, test } from "bun:test";
import { oneLineError, runTaskq, TASKQ_BIN } from "../support/taskq.ts";

const sq = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** Sources `taskq completions bash` in a real bash and asks it to complete the last of `words`. */
async function bashComplete(words: string[]): Promise<string[]> {
  const script = [
    `source <(${sq(TASKQ_BIN)} completions bash) || exit 9`,
    `COMP_WORDS=(${words.map(sq).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    "_taskq",
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join("\n");
  const proc = Bun.spawn(["bash", "--norc", "--noprofile", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  return stdout.split("\n").filter((line) => line.length > 0);
}

/** The long options `taskq ARGS --help` lists, i.e. what the real CLI accepts. */
async function helpOptions(args: string[]): Promise<string[]> {
  const r = await runTaskq([...args, "--help"]);
  expect(r.code).toBe(0);
  const section = r.stdout.split(/^Options:$/m)[1]?.split(/^\S.*:$/m)[0] ?? "";
  return [...section.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string);
}

/** Checks a script with `shell -n` when that shell is installed; false when it is not. */
async function parses(shell: string, script: string): Promise<boolean> {
  if (Bun.which(shell) === null) return false;
  const proc = Bun.spawn([shell, "-n"], { stdin: Buffer.from(script), stdout: "pipe", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  return true;
}

describe("taskq completions bash", () => {
  // Each row: the words typed (the last one being completed), what bash offers.
  const cases: Array<[string, string[], string[]]> = [
    ["a subcommand", ["taskq", "se"], ["send"]],
    ["an option of the chosen subcommand", ["taskq", "work", "--pre"], ["--prefetch"]],
    ["a nested subcommand", ["taskq", "dead", "re"], ["requeue"]],
    ["an option of a nested subcommand", ["taskq", "dead", "requeue", "--i"], ["--id"]],
    ["queue types after --queue-type", ["taskq", "send", "--queue-type", ""], ["classic", "quorum"]],
    ["queue types after --queue-type=", ["taskq", "work", "--queue-type", "=", "q"], ["quorum"]],
    ["shells after completions", ["taskq", "completions", ""], ["bash", "zsh", "fish"]],
    ["nothing for a free value", ["taskq", "send", "--queue", ""], []],
    ["an option after a value that looks like a subcommand", ["taskq", "send", "-q", "dead", "--tr"], ["--transient"]],
    ["subcommands for help", ["taskq", "help", "w"], ["work"]],
  ];
  test.each(cases)("%s", async (_label, words, expected) => {
    expect(await bashComplete(words)).toEqual(expected);
  });

  test("command names after work --", async () => {
    expect(await bashComplete(["taskq", "work", "--", "bas"])).toContain("bash");
  });

  test("subcommands and long options are the real CLI's", async () => {
    const help = await runTaskq(["--help"]);
    const commands = [...(help.stdout.split(/^Commands:$/m)[1] ?? "").matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(["send", "work", "status", "dead", "bench", "completions"]));
    expect(await bashComplete(["taskq", ""])).toEqual(commands as string[]);
    for (const path of [
      ["send"],
      ["work"],
      ["status"],
      ["bench"],
      ["dead", "list"],
      ["dead", "requeue"],
      ["completions"],
    ]) {
      const options = await helpOptions(path);
      expect(options).toContain("--help");
      expect(await bashComplete(["taskq", ...path, "--"])).toEqual(options);
    }
  });
});

describe("taskq completions zsh", () => {
  test("a #compdef script that defines and registers _taskq", async () => {
    const r = await runTaskq(["completions", "zsh"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("#compdef taskq");
    if (!(await parses("zsh", r.stdout))) {
      // No zsh here: check the content, and that the quoting balances (bash shares zsh's quoting rules).
      expect(await parses("bash", r.stdout)).toBe(true);
    }
    for (const fn of [
      "_taskq",
      "_taskq_send",
      "_taskq_work",
      "_taskq_status",
      "_taskq_dead",
      "_taskq_dead_list",
      "_taskq_dead_requeue",
      "_taskq_bench",
      "_taskq_completions",
    ]) {
      expect(r.stdout).toContain(`\n${fn}() {\n`);
    }
    expect(r.stdout).toContain("'(-p --prefetch)'{-p,--prefetch}'[most unacked tasks at once");
    expect(r.stdout).toContain(":type:(classic quorum)'");
    expect(r.stdout).toContain("'1:shell:(bash zsh fish)'");
    expect(r.stdout).toContain("'requeue:move dead tasks back to the work queue, with fresh attempts'");
    expect(r.stdout).toMatch(/compdef _taskq taskq; fi\n$/);
  });
});

describe("taskq completions fish", () => {
  test("complete -c taskq lines for every subcommand and option", async () => {
    const r = await runTaskq(["completions", "fish"]);
    expect(r.code).toBe(0);
    await parses("fish", r.stdout);
    const completes = r.stdout.split("\n").filter((line) => line.startsWith("complete "));
    for (const line of completes) {
      expect(line).toMatch(/^complete -c taskq( -f$| -n '__taskq_at taskq[\w -]*' )/);
      // Quotes balance once fish's two escapes (\\ and \') are taken out.
      expect((line.replace(/\\[\\']/g, "").match(/'/g) ?? []).length % 2).toBe(0);
    }
    expect(completes).toContain(
      "complete -c taskq -n '__taskq_at taskq' -a 'send' -d 'publish tasks: persistent and confirmed by the broker'",
    );
    expect(completes).toContain(
      "complete -c taskq -n '__taskq_at taskq dead' -a 'requeue' -d 'move dead tasks back to the work queue, with fresh attempts'",
    );
    expect(completes).toContain("complete -c taskq -n '__taskq_at taskq completions' -a 'fish'");
    expect(
      completes.some((l) => l.startsWith("complete -c taskq -n '__taskq_at taskq work' -s p -l prefetch -x ")),
    ).toBe(true);
    expect(
      completes.some((l) =>
        l.startsWith("complete -c taskq -n '__taskq_at taskq send' -l queue-type -xa 'classic quorum' "),
      ),
    ).toBe(true);
    expect(completes.some((l) => l.startsWith("complete -c taskq -n '__taskq_at taskq send' -s f -l file -rF "))).toBe(
      true,
    );
  });
});

describe("taskq completions: bad input", () => {
  test("an unknown shell is a one-line usage error, exit 2", async () => {
    const r = await runTaskq(["completions", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(oneLineError(r.stderr)).toBe("taskq: unknown shell 'tcsh': taskq completes bash, zsh and fish");
  });

  test("no shell is a one-line usage error, exit 2", async () => {
    const r = await runTaskq(["completions"]);
    expect(r.code).toBe(2);
    expect(oneLineError(r.stderr)).toMatch(/missing required argument 'shell'/);
  });
});
