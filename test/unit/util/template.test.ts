import { describe, expect, test } from "bun:test";
import { DEFAULT_TEMPLATE, renderTemplate } from "../../../src/util/template.ts";

describe("renderTemplate", () => {
  test.each([
    ["task {i}", 1, "task 1"],
    ["task {i}", 42, "task 42"],
    ["{i}", 7, "7"],
    ["{i}-{i}-{i}", 3, "3-3-3"],
    ["job {i} of batch, retry {i}", 10, "job 10 of batch, retry 10"],
    ["no placeholder", 5, "no placeholder"],
    ["", 1, ""],
    ["{j} {I} { i }", 2, "{j} {I} { i }"],
    ["{{i}}", 9, "{9}"],
    ["dots...{i}", 1, "dots...1"],
  ])("renderTemplate(%p, %p) = %p", (template, index, expected) => {
    expect(renderTemplate(template, index)).toBe(expected);
  });

  test("the default template numbers tasks", () => {
    expect(DEFAULT_TEMPLATE).toBe("task {i}");
    expect(renderTemplate(DEFAULT_TEMPLATE, 3)).toBe("task 3");
  });
});
