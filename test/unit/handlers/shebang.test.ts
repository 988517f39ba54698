import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interpreterProblem } from "../../../src/handlers/shebang.ts";

const dir = mkdtempSync(join(tmpdir(), "taskq-shebang-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string, mode = 0o755): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

describe("interpreterProblem", () => {
  test.each<[string, string, string | undefined]>([
    ["a script with /bin/sh", "#!/bin/sh\necho hi\n", undefined],
    ["a script with arguments", "#!/bin/sh -e\necho hi\n", undefined],
    ["no #! line (the kernel's ENOEXEC path)", "echo hi\n", undefined],
    [
      "a missing interpreter",
      "#!/usr/bin/nonexistent\necho\n",
      "its interpreter /usr/bin/nonexistent (#! line) does not exist",
    ],
    [
      "a missing interpreter after a space",
      "#! /nonexistent/bash -e\n",
      "its interpreter /nonexistent/bash (#! line) does not exist",
    ],
    ["env and a program on PATH", "#!/usr/bin/env sh\necho hi\n", undefined],
    ["env -S and a program on PATH", "#!/usr/bin/env -S sh -e\necho hi\n", undefined],
    [
      "env and a program not on PATH",
      "#!/usr/bin/env nosuchprog\n",
      "its interpreter nosuchprog (#!/usr/bin/env nosuchprog) is not found on PATH",
    ],
    ["an empty #! line", "#!\n", "its #! line names no interpreter"],
    [
      "Windows line ends",
      "#!/bin/sh\r\necho hi\r\n",
      "its #! line ends in a carriage return (saved with Windows line ends): its interpreter would be '/bin/sh\\r'",
    ],
    [
      "Windows line ends after env",
      "#!/usr/bin/env sh\r\n",
      "its #! line ends in a carriage return (saved with Windows line ends): its interpreter would be 'sh\\r'",
    ],
  ])("%s", (name, text, expected) => {
    expect(interpreterProblem(script(name.replace(/\W+/g, "-"), text))).toBe(expected);
  });

  test("an interpreter that is there but not executable", () => {
    const interpreter = script("not-exec", "plain file", 0o644);
    expect(interpreterProblem(script("uses-not-exec", `#!${interpreter}\n`))).toBe(
      `its interpreter ${interpreter} (#! line) is not executable`,
    );
  });

  test("a name found on PATH is read there", () => {
    script("taskq-bad-on-path", "#!/usr/bin/nonexistent\n");
    expect(interpreterProblem("taskq-bad-on-path", `${dir}:/usr/bin:/bin`)).toBe(
      "its interpreter /usr/bin/nonexistent (#! line) does not exist",
    );
  });

  test("a binary (no #!) and a file that is not there: no problem to name", () => {
    expect(interpreterProblem("/bin/true")).toBeUndefined();
    expect(interpreterProblem(join(dir, "missing"))).toBeUndefined();
  });
});
