import { afterAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { BROKER_URL, drain, rabbitmqctl, trackedQueues, waitFor } from "../support/broker.ts";

// examples/node-service/server.mjs as a user runs it: one client for the service's life.
const SERVER = join(import.meta.dir, "..", "..", "examples", "node-service", "server.mjs");
const tracked = trackedQueues();
afterAll(() => tracked.deleteAll());

test("the example service: 60 sequential and 100 concurrent POSTs, each 202 once confirmed, one connection in total; SIGTERM drains", async () => {
  const queue = tracked.name("client-service");
  const tag = `service-${randomBytes(4).toString("hex")}`;
  const server = Bun.spawn([process.execPath, SERVER], {
    // PORT 0: a fixed port can be held by an outgoing connection of the moment (34050 lies in Linux's ephemeral range).
    env: { ...process.env, TASKQ_URL: BROKER_URL, QUEUE: queue, PORT: "0", TASKQ_CONNECTION_TAG: tag },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  void (async () => {
    for await (const chunk of server.stdout) out += new TextDecoder().decode(chunk);
  })();
  try {
    const port = Number(
      await waitFor(() => /listening on :(\d+)/.exec(out)?.[1], 20_000, "the service to listen (its port)"),
    );
    const post = (email: string) =>
      fetch(`http://127.0.0.1:${port}/signup`, { method: "POST", body: JSON.stringify({ email }) });
    for (let i = 0; i < 60; i++) expect((await post(`s${i}@example.com`)).status).toBe(202);
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(`c${i}@example.com`)));
    expect(answers.map((r) => r.status)).toEqual(Array(100).fill(202));
    expect((await post("no at sign")).status).toBe(400);
    const rows = (await rabbitmqctl("list_connections", "client_properties", "--no-table-headers")).split("\n");
    expect(rows.filter((row) => row.includes(`[${tag}]`))).toHaveLength(1);
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  } finally {
    server.kill("SIGKILL");
  }
  const ids = (await drain(queue)).map((m) => m.properties.messageId);
  expect(new Set(ids).size).toBe(160);
  expect(ids).toContain("welcome-c99@example.com");
}, 90_000);
