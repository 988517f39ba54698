import { describe, expect, test } from "bun:test";
import { DURATION_BUCKETS, Histogram } from "../../../src/metrics/histogram.ts";

const small = () => new Histogram("h_seconds", "help", [], [0.1, 1, 10]);

describe("Histogram bucket placement", () => {
  // le is inclusive: a value equal to a bound counts in that bound's bucket.
  test.each([
    [0, 0],
    [-1, 0],
    [0.05, 0],
    [0.1, 0],
    [0.10000000001, 1],
    [0.5, 1],
    [1, 1],
    [1.0000001, 2],
    [10, 2],
    [10.5, 3],
    [Infinity, 3],
  ])("%p goes in bucket %p", (value, index) => {
    expect(small().bucketIndex(value)).toBe(index);
  });

  test.each(DURATION_BUCKETS.map((b, i) => [b, i] as const))("the default bound %p is its own bucket %p", (bound, index) => {
    const h = new Histogram("d_seconds", "help");
    expect(h.bucketIndex(bound)).toBe(index);
  });

  test("default buckets run from 5 ms to 60 s", () => {
    expect(DURATION_BUCKETS[0]).toBe(0.005);
    expect(DURATION_BUCKETS.at(-1)).toBe(60);
  });
});

describe("Histogram cumulative buckets", () => {
  test.each<[string, number[], number[]]>([
    ["none", [], [0, 0, 0, 0]],
    ["one per bucket", [0.05, 0.5, 5, 50], [1, 2, 3, 4]],
    ["all on the boundaries", [0.1, 1, 10], [1, 2, 3, 3]],
    ["all above the last bound", [11, 12], [0, 0, 0, 2]],
    ["all in the first", [0, 0.01, 0.1], [3, 3, 3, 3]],
  ])("%s", (_name, values, expected) => {
    const h = small();
    for (const v of values) h.observe({}, v);
    const cumulative = h.cumulative({});
    expect(cumulative).toEqual(expected);
    // +Inf equals the count.
    expect(cumulative.at(-1)).toBe(values.length);
  });
});

describe("Histogram rejects", () => {
  test.each<[string, number[]]>([
    ["no buckets", []],
    ["unsorted", [1, 0.5]],
    ["duplicates", [1, 1]],
    ["an explicit +Inf", [1, Infinity]],
    ["NaN", [NaN]],
  ])("%s", (_name, buckets) => {
    expect(() => new Histogram("h", "help", [], buckets)).toThrow();
  });

  test("an 'le' label", () => {
    expect(() => new Histogram("h", "help", ["le"])).toThrow("reserved");
  });

  test("observing NaN", () => {
    expect(() => small().observe({}, NaN)).toThrow();
  });
});

test("Histogram renders _bucket, _sum and _count per series", () => {
  const h = new Histogram("job_seconds", "Job time.", ["queue"], [0.5, 1]);
  h.observe({ queue: "a" }, 0.25);
  h.observe({ queue: "a" }, 1);
  h.observe({ queue: "a" }, 3);
  h.observe({ queue: "b" }, 0.5);
  expect(h.render()).toBe(
    [
      "# HELP job_seconds Job time.",
      "# TYPE job_seconds histogram",
      'job_seconds_bucket{queue="a",le="0.5"} 1',
      'job_seconds_bucket{queue="a",le="1"} 2',
      'job_seconds_bucket{queue="a",le="+Inf"} 3',
      'job_seconds_sum{queue="a"} 4.25',
      'job_seconds_count{queue="a"} 3',
      'job_seconds_bucket{queue="b",le="0.5"} 1',
      'job_seconds_bucket{queue="b",le="1"} 1',
      'job_seconds_bucket{queue="b",le="+Inf"} 1',
      'job_seconds_sum{queue="b"} 0.5',
      'job_seconds_count{queue="b"} 1',
      "",
    ].join("\n"),
  );
});
