import { describe, expect, test } from "bun:test";
import { busyMembers } from "../../../../src/core/admin/family-remove.ts";
import { familyFromApi, familyRegex, familyRole } from "../../../../src/core/admin/family.ts";
import { queuePage } from "../../../../src/core/admin/management.ts";
// A real answer of RabbitMQ 3.10.8's GET /api/queues/%2F?page=1&page_size=500&name=<familyRegex("jobs.v1")>&use_regex=true,
// recorded on an isolated node while a consumer held 2 tasks unacked. The API matches names without case: JOBS.V1.dead is in it.
import recorded from "./fixtures/api-queues-3.10.8.json";

describe("familyRole: exact members only", () => {
  test.each<[string, string, ReturnType<typeof familyRole>]>([
    ["task_queue", "task_queue", { role: "work" }],
    ["task_queue", "task_queue.dead", { role: "dead" }],
    ["task_queue", "task_queue.retry.3000", { role: "retry", levelMs: 3000 }],
    ["task_queue", "task_queue.delay.500", { role: "delay", levelMs: 500 }],
    ["task_queue", "task_queue.delay.0", { role: "delay", levelMs: 0 }],
    ["jobs.v1", "jobs.v1.retry.1000", { role: "retry", levelMs: 1000 }],
    ["task_queue", "task_queuex", undefined],
    ["task_queue", "task_queue.deadx", undefined],
    ["task_queue", "task_queue.retry.abc", undefined],
    ["task_queue", "task_queue.retry.1s", undefined],
    ["task_queue", "task_queue.retry.", undefined],
    ["task_queue", "task_queue.retry.0100", undefined],
    ["task_queue", "task_queue.retry.1000.dead", undefined],
    ["task_queue", "TASK_QUEUE.dead", undefined],
    ["task_queue", "other.task_queue.dead", undefined],
    ["a.b", "aXb.dead", undefined],
    ["task_queue", "task_queue.retry.99999999999999999", undefined],
  ])("%s: %s", (queue, name, expected) => {
    expect(familyRole(queue, name)).toEqual(expected);
  });
});

describe("familyRegex: the queue's name taken literally", () => {
  test.each([
    ["task_queue", "^task_queue(\\.(retry|delay)\\.[0-9]+|\\.dead)?$"],
    ["jobs.v1", "^jobs\\.v1(\\.(retry|delay)\\.[0-9]+|\\.dead)?$"],
    [
      "a+b(c)[d]{e}|f^g$h?i*j\\k",
      "^a\\+b\\(c\\)\\[d\\]\\{e\\}\\|f\\^g\\$h\\?i\\*j\\\\k(\\.(retry|delay)\\.[0-9]+|\\.dead)?$",
    ],
  ])("%s", (queue, regex) => {
    expect(familyRegex(queue)).toBe(regex);
  });

  test("matches (as JavaScript reads it, close to Erlang's re) the members and not the neighbours", () => {
    const re = new RegExp(familyRegex("a.b"));
    expect(["a.b", "a.b.dead", "a.b.retry.1000", "a.b.delay.5"].every((name) => re.test(name))).toBe(true);
    expect(["aXb", "a.bc", "a.b.dead.x", "xa.b"].some((name) => re.test(name))).toBe(false);
  });
});

describe("familyFromApi: a recorded answer", () => {
  const { items, pageCount } = queuePage(recorded);
  const family = familyFromApi("jobs.v1", items);

  test("one page; the other-case neighbour the API matched is left out", () => {
    expect(pageCount).toBe(1);
    expect(items.map((item) => item.name)).toContain("JOBS.V1.dead");
    expect(family.map((member) => member.name)).toEqual([
      "jobs.v1",
      "jobs.v1.retry.3000",
      "jobs.v1.retry.6000",
      "jobs.v1.delay.500",
      "jobs.v1.dead",
    ]);
  });

  test("the work queue: ready, unacked, consumers and the rates from message_stats", () => {
    expect(family[0]).toEqual({
      name: "jobs.v1",
      role: "work",
      ready: 73,
      unacked: 2,
      consumers: 1,
      rates: { publish: 0, deliver: 0, ack: 0 },
    });
  });

  test("levels: their delay from the name; no rates before the broker has statistics for them", () => {
    expect(family[1]).toMatchObject({ role: "retry", levelMs: 3000, ready: 1, unacked: 0 });
    expect(family[2]).toEqual({
      name: "jobs.v1.retry.6000",
      role: "retry",
      levelMs: 6000,
      ready: 0,
      unacked: 0,
      consumers: 0,
    });
    expect(family[3]).toMatchObject({ role: "delay", levelMs: 500 });
    expect(family[4]).toMatchObject({ role: "dead", ready: 1 });
  });

  test("an item without counts (listed before its first statistics) has no unacked count rather than a made-up 0", () => {
    expect(familyFromApi("q", [{ name: "q.dead" }])).toEqual([
      { name: "q.dead", role: "dead", ready: 0, consumers: 0 },
    ]);
  });

  test("a quorum delay queue holding a dead letter it could not route yet (its work queue deleted): held, and busy", () => {
    // As RabbitMQ 3.10.8 lists it: messages 1, messages_ready 0, messages_unacknowledged 0.
    const family = familyFromApi("q", [
      { name: "q.delay.2000", messages: 1, messages_ready: 0, messages_unacknowledged: 0, consumers: 0 },
    ]);
    expect(family).toEqual([
      { name: "q.delay.2000", role: "delay", levelMs: 2000, ready: 0, unacked: 0, held: 1, consumers: 0 },
    ]);
    expect(busyMembers(family).map((q) => q.name)).toEqual(["q.delay.2000"]);
    expect(
      familyFromApi("q", [{ name: "q", messages: 3, messages_ready: 2, messages_unacknowledged: 1 }])[0]?.held,
    ).toBe(undefined);
    // A count missing: no held figure rather than ready or unacked tasks passed off as held.
    expect(familyFromApi("q", [{ name: "q.retry.1000", messages: 5, messages_ready: 2 }])[0]?.held).toBe(undefined);
    expect(familyFromApi("q", [{ name: "q.delay.500", messages: 3, messages_unacknowledged: 0 }])[0]?.held).toBe(
      undefined,
    );
  });

  test.each([
    ["an array (the unpaginated answer of another API)", [{ name: "q" }]],
    ["an HTML page", "<html>"],
    ["null", null],
  ])("queuePage rejects %s", (_name, answer) => {
    expect(() => queuePage(answer)).toThrow(/answered with something other than a list of queues/);
  });
});
