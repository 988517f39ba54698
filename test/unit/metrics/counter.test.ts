import { describe, expect, test } from "bun:test";
import { Counter } from "../../../src/metrics/counter.ts";
import { Gauge } from "../../../src/metrics/gauge.ts";

describe("Counter", () => {
  test.each<[string, Array<[string, number]>, Record<string, number>]>([
    ["one series", [["a", 1], ["a", 1], ["a", 3]], { a: 5 }],
    ["separate series", [["a", 1], ["b", 2], ["a", 1]], { a: 2, b: 2 }],
    ["inc by 0 creates the series", [["a", 0]], { a: 0 }],
  ])("%s", (_name, incs, expected) => {
    const c = new Counter("c_total", "help", ["k"]);
    for (const [k, by] of incs) c.inc({ k }, by);
    for (const [k, v] of Object.entries(expected)) expect(c.value({ k })).toBe(v);
  });

  test.each([-1, NaN])("cannot go down by %p", (by) => {
    expect(() => new Counter("c_total", "help").inc({}, by)).toThrow();
  });

  test("wrong labels are a bug", () => {
    const c = new Counter("c_total", "help", ["queue"]);
    expect(() => c.inc({ queue: "q", other: "x" } as unknown as { queue: string })).toThrow("takes labels [queue]");
    expect(() => c.inc({} as unknown as { queue: string })).toThrow();
  });

  test("label values that differ only in escaping stay apart", () => {
    const c = new Counter("c_total", "help", ["a", "b"]);
    c.inc({ a: "x", b: "y" });
    c.inc({ a: "x\u0001", b: "y" });
    expect(c.render()).toBe('# HELP c_total help\n# TYPE c_total counter\nc_total{a="x",b="y"} 1\nc_total{a="x\u0001",b="y"} 1\n');
  });

  test("without labels it renders 0 from the start", () => {
    expect(new Counter("c_total", "help").render()).toBe("# HELP c_total help\n# TYPE c_total counter\nc_total 0\n");
  });

  test("escapes label values", () => {
    const c = new Counter("c_total", "help", ["queue"]);
    c.inc({ queue: 'a"b\\c\nd' }, 2);
    expect(c.render()).toBe('# HELP c_total help\n# TYPE c_total counter\nc_total{queue="a\\"b\\\\c\\nd"} 2\n');
  });
});

describe("Gauge", () => {
  test.each<[string, (g: Gauge) => void, number]>([
    ["starts at 0", () => {}, 0],
    ["set", (g) => g.set({}, 7), 7],
    ["inc and dec", (g) => (g.inc({}), g.inc({}), g.dec({})), 1],
    ["may go negative", (g) => g.dec({}, 2), -2],
    ["set after inc", (g) => (g.inc({}, 5), g.set({}, 1)), 1],
  ])("%s", (_name, act, expected) => {
    const g = new Gauge("g", "help");
    act(g);
    expect(g.value({})).toBe(expected);
    expect(g.render()).toBe(`# HELP g help\n# TYPE g gauge\ng ${expected}\n`);
  });
});
