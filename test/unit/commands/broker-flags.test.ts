import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokerTarget } from "../../../src/commands/broker-flags.ts";
import { parsePrefetchList } from "../../../src/commands/bench-plan.ts";
import { expectUsageError } from "../usage-error.ts";

const dir = mkdtempSync(join(tmpdir(), "taskq-flags-"));
const pem = join(dir, "ca.pem");
writeFileSync(pem, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
const TLS = "amqps://u:p@h:5671";

describe("brokerTarget", () => {
  test("flag URL, connect timeout, no TLS for amqp://", () => {
    expect(brokerTarget({ url: "amqp://u:p@h", connectTimeout: 1234 }, {})).toEqual({
      urls: ["amqp://u:p@h"],
      connectTimeoutMs: 1234,
    });
  });

  test("reads --ca, --cert, --key into buffers", () => {
    const t = brokerTarget({ url: TLS, connectTimeout: 5000, ca: pem, cert: pem, key: pem }, {});
    expect(t.tls?.ca?.toString()).toContain("BEGIN CERTIFICATE");
    expect(t.tls?.cert).toBeInstanceOf(Buffer);
    expect(t.tls?.key).toBeInstanceOf(Buffer);
  });

  test("TASKQ_CA and TASKQ_URL from the environment when no flag is given", () => {
    const t = brokerTarget({ connectTimeout: 5000 }, { TASKQ_URL: TLS, TASKQ_CA: pem });
    expect(t.urls).toEqual([TLS]);
    expect(t.tls?.ca).toBeInstanceOf(Buffer);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ["a missing file", { url: TLS, ca: "/no/such.pem" }, /cannot read --ca '\/no\/such.pem'/],
    ["--cert without --key", { url: TLS, cert: pem }, /--cert and --key go together/],
    ["TLS files with amqp://", { url: "amqp://h", ca: pem }, /need an amqps:\/\/ URL/],
    ["a bad scheme", { url: "http://h" }, /scheme must be amqp/],
  ])("rejects %s", (_label, flags, pattern) => {
    expect(expectUsageError(() => brokerTarget({ connectTimeout: 5000, ...flags }, {})).message).toMatch(pattern);
  });
});

describe("parsePrefetchList", () => {
  test.each<[string, Array<number | "auto">]>([
    ["1", [1]],
    ["1,10,100", [1, 10, 100]],
    [" 5 , 5 ,7", [5, 7]],
    ["1,auto,100", [1, "auto", 100]],
  ])("%p -> %j", (text, expected) => {
    expect(parsePrefetchList(text)).toEqual(expected);
  });

  test.each(["", "0", "1,,2", "a", "70000", "-1", "Auto"])("rejects %p", (text) => {
    expect(expectUsageError(() => parsePrefetchList(text)).message).toContain("--prefetch");
  });
});
