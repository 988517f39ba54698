import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { uniqueQueue } from "../support/broker.ts";
import { freePort } from "../support/node.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";
import { type TestPki, TlsNode, makeTestPki } from "../support/tls.ts";

// Offsets apart from the other isolated-node tests; the TLS port is a second free port.
const PORT = freePort(11);
const TLS_PORT = freePort(12);

let pki: TestPki;
let node: TlsNode;

/** No TLS settings inherited from the environment running the tests. */
const CLEAN_ENV = { TASKQ_CA: undefined, TASKQ_CERT: undefined, TASKQ_KEY: undefined, AMQP_URL: undefined };

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runTaskq(args, { env: { ...CLEAN_ENV, ...env }, timeoutMs: 30_000 });

describe("amqps: TLS to an isolated node", () => {
  beforeAll(async () => {
    pki = await makeTestPki();
    node = new TlsNode("tls", PORT, TLS_PORT, pki.dir);
    await node.start();
  }, 90_000);

  afterAll(async () => {
    await node?.wipe();
    pki?.remove();
  }, 90_000);

  test("send then work over amqps with --ca", async () => {
    const queue = uniqueQueue("tls");
    const sent = await run(["send", "--url", node.tlsUrl, "--ca", pki.ca, "-q", queue, "hello"]);
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    const worked = await run(["work", "--url", node.tlsUrl, "--ca", pki.ca, "-q", queue, "--max-tasks", "1"]);
    expect(worked.code).toBe(0);
    expect(worked.stdout).toContain("Received 'hello'");
  }, 30_000);

  test("the plain listener on PORT still answers", async () => {
    const result = await run(["send", "--url", node.url, "-q", uniqueQueue("tls-plain"), "hello"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  }, 30_000);

  test("a client certificate and key (--cert/--key) work too", async () => {
    const queue = uniqueQueue("tls-cert");
    const tls = ["--ca", pki.ca, "--cert", pki.client, "--key", pki.clientKey];
    const sent = await run(["send", "--url", node.tlsUrl, ...tls, "-q", queue, "hello"]);
    expect(sent.code).toBe(0);
    const worked = await run(["work", "--url", node.tlsUrl, ...tls, "-q", queue, "--max-tasks", "1"]);
    expect(worked.code).toBe(0);
    expect(worked.stdout).toContain("Received 'hello'");
  }, 30_000);

  test("TASKQ_CA, TASKQ_CERT and TASKQ_KEY stand in for the flags", async () => {
    const queue = uniqueQueue("tls-env");
    const sent = await run(["send", "-q", queue, "hello"], { TASKQ_URL: node.tlsUrl, TASKQ_CA: pki.ca });
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    const env = { TASKQ_URL: node.tlsUrl, TASKQ_CA: pki.ca, TASKQ_CERT: pki.client, TASKQ_KEY: pki.clientKey };
    const worked = await run(["work", "-q", queue, "--max-tasks", "1"], env);
    expect(worked.code).toBe(0);
    expect(worked.stdout).toContain("Received 'hello'");
  }, 30_000);

  test("an untrusted server certificate (no --ca): one-line TLS error, exit 3, no password", async () => {
    const password = "tls-Secret-9q";
    const url = `amqps://guest:${password}@localhost:${TLS_PORT}`;
    const started = performance.now();
    const result = await run(["send", "--url", url, "-q", uniqueQueue("tls-untrusted"), "hello"]);
    expect(result.code).toBe(3);
    const line = oneLineError(result.stderr);
    expect(line).toContain(`cannot reach the broker at localhost:${TLS_PORT}`);
    expect(line).toMatch(/TLS failed: .*certificate/);
    expect(line).toContain("check --ca, --cert and --key");
    expect(result.stdout + result.stderr).not.toContain(password);
    // A certificate problem is not retried.
    expect(performance.now() - started).toBeLessThan(3000);
  }, 30_000);

  test("a client certificate from another CA is refused by the broker (verify_peer): exit 3", async () => {
    const other = await makeTestPki();
    try {
      const result = await run([
        "send",
        "--url",
        node.tlsUrl,
        "--ca",
        pki.ca,
        "--cert",
        other.client,
        "--key",
        other.clientKey,
        "-q",
        uniqueQueue("tls-badcert"),
        "hello",
      ]);
      expect(result.code).toBe(3);
      expect(oneLineError(result.stderr)).toMatch(/TLS failed: .*UNKNOWN_CA/);
    } finally {
      other.remove();
    }
  }, 30_000);

  describe("usage errors (exit 2, before connecting)", () => {
    test("--ca with an amqp:// URL", async () => {
      const result = await run(["send", "--url", node.url, "--ca", pki.ca, "-q", uniqueQueue("tls-usage"), "hello"]);
      expect(result.code).toBe(2);
      expect(oneLineError(result.stderr)).toContain("amqps://");
    });

    test("--cert without --key", async () => {
      const result = await run([
        "send",
        "--url",
        node.tlsUrl,
        "--ca",
        pki.ca,
        "--cert",
        pki.client,
        "-q",
        uniqueQueue("tls-usage"),
        "hello",
      ]);
      expect(result.code).toBe(2);
      expect(oneLineError(result.stderr)).toContain("--cert and --key");
    });

    test("--ca /no/such/file", async () => {
      const result = await run([
        "send",
        "--url",
        node.tlsUrl,
        "--ca",
        "/no/such/file",
        "-q",
        uniqueQueue("tls-usage"),
        "hello",
      ]);
      expect(result.code).toBe(2);
      expect(oneLineError(result.stderr)).toContain("/no/such/file");
    });
  });
});
