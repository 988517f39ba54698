import { expect, test } from "bun:test";
import { type Redelivery, deathReason, judgeRedelivery } from "../../../../src/core/failures/redeliveries.ts";

test.each<[string, number, boolean, number, Redelivery["action"]]>([
  ["a first delivery", 0, false, 5, "run"],
  ["the first return", 1, true, 5, "back"],
  ["the fourth return", 4, true, 5, "back"],
  ["the fifth return, at 5: no sixth run", 5, true, 5, "dead"],
  ["a copy counted below the limit", 3, false, 5, "run"],
  ["a copy carrying the limit (a hand-back)", 5, false, 5, "dead"],
  ["a lower limit than the count so far", 4, true, 2, "dead"],
  ["--max-redeliveries 1: the first return", 1, true, 1, "dead"],
])("%s (count %p, returned %p, max %p): %s", (_label, redeliveries, returned, max, action) => {
  const verdict = judgeRedelivery({ redeliveries }, returned, max);
  expect(verdict.action).toBe(action);
  if (verdict.action !== "run") expect(verdict.count).toBe(redeliveries);
});

test("the reason a dead task carries names the deaths, and the why names the flag", () => {
  expect(judgeRedelivery({ redeliveries: 5 }, true, 5)).toEqual({
    action: "dead",
    count: 5,
    reason: deathReason(5),
    why: "it came back 5 times in a row: --max-redeliveries 5",
  });
  expect(deathReason(5)).toBe(
    "its worker died 5 times in a row while running it (killed, out of memory, or cut off from the broker)",
  );
  expect(deathReason(1)).toBe(
    "its worker died once while running it (killed, out of memory, or cut off from the broker)",
  );
});
