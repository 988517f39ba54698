import { afterAll, beforeAll, expect, test } from "bun:test";
import { guessedUrls, managementClient } from "../../../../src/core/admin/management.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";
import { checkFamilyFlags } from "../../../../src/commands/family-flags.ts";

test.each([
  ["amqp://h:5672", ["http://h:15672/"]],
  ["amqp://h:5743", ["http://h:15743/", "http://h:15672/"]],
  ["amqps://h:5671", ["https://h:15671/"]],
  ["amqps://h:5743", ["https://h:15743/", "https://h:15671/"]],
  ["amqp://h:60000", ["http://h:15672/"]],
])("%s: the management API is looked for at %j", (url, expected) => {
  expect(guessedUrls(parseBrokerUrl(url)).map(String)).toEqual(expected);
});

// A broker on 24003 whose management API is on 34003 (its port + 10000), none on 15672.
let server: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 34003,
    fetch: () => Response.json({ items: [{ name: "jobs", messages_ready: 3 }], page_count: 1 }),
  });
});
afterAll(() => server.stop(true));

test("a broker on another port: its management API found at that port + 10000, without a flag", async () => {
  const api = managementClient(parseBrokerUrl("amqp://guest:guest@127.0.0.1:24003"));
  expect((await api.queues("^jobs")).map((q) => q.name)).toEqual(["jobs"]);
  expect(api.display).toBe("http://127.0.0.1:34003");
});

test("no management API at any guess: one line naming each URL tried and how to set it", async () => {
  const api = managementClient(parseBrokerUrl("amqp://guest:guest@127.0.0.6:24004"));
  const err = (await api.queues("^jobs").catch((e: Error) => e)) as Error;
  expect(err.message).toBe(
    "http://127.0.0.6:34004 refused the connection; http://127.0.0.6:15672 refused the connection (guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL)",
  );
});

const flags = () => ({ retryDelay: 1000, retryMaxDelay: 2000 });
test.each([
  [{}, { TASKQ_MANAGEMENT_URL: "http://m:1234" }, "http://m:1234"],
  [{ managementUrl: "http://flag:1" }, { TASKQ_MANAGEMENT_URL: "http://m:1234" }, "http://flag:1"],
  [{ management: false }, { TASKQ_MANAGEMENT_URL: "http://m:1234" }, undefined],
  [{}, { TASKQ_MANAGEMENT_URL: "" }, undefined],
])("flags %j with env %j: the management URL is %s", (given, env, expected) => {
  const checked = { ...flags(), ...given } as Parameters<typeof checkFamilyFlags>[0];
  checkFamilyFlags(checked, env);
  expect(checked.managementUrl).toBe(expected);
});

test("a bad TASKQ_MANAGEMENT_URL: a usage error naming the variable", () => {
  expect(() => checkFamilyFlags(flags(), { TASKQ_MANAGEMENT_URL: "ftp://m" })).toThrow(
    "TASKQ_MANAGEMENT_URL must be http:// or https://, not ftp://",
  );
});
