import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import amqp from "amqplib";
import { IsolatedNode, freePort } from "../support/node.ts";

// scripts/test fails when an isolated node logged a deprecated feature in use: the node's
// "Deprecated features" lines are noted as its data goes (scripts/node.sh, node_note_deprecated).
const node = new IsolatedNode("deprecated", freePort(53), { version: "4.3" });
afterAll(() => node.wipe(), 60_000);

test("a global basic.qos on RabbitMQ 4.3 is noted when the node is wiped", async () => {
  await node.start();
  const conn = await amqp.connect(node.url);
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(1, true); // global: the deprecated feature global_qos
    await ch.close();
  } finally {
    await conn.close();
  }
  const file = join(mkdtempSync(join(tmpdir(), "taskq-deprecated-")), "lines");
  // Its own file, not the suite's: this line is wanted here, and must not fail the suite.
  const wipe = Bun.spawn([join(import.meta.dir, "..", "..", "scripts", "broker"), "wipe", node.name], {
    env: { ...process.env, TASKQ_SUITE_DEPRECATED: file },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await wipe.exited).toBe(0);
  const lines = readFileSync(file, "utf8");
  expect(lines).toContain("Deprecated features");
  expect(lines).toContain("global_qos");
}, 180_000);
