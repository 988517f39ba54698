import { describe, expect, test } from "bun:test";
import {
  DEFAULT_URL,
  maskUrl,
  parseBrokerUrl,
  parseBrokerUrls,
  redact,
  resolveUrls,
} from "../../../../src/core/broker/url.ts";
import { expectUsageError } from "../../usage-error.ts";

describe("resolveUrls", () => {
  const flag = "amqp://flag-host";
  const taskq = "amqp://taskq-host";
  const amqp = "amqp://amqp-host";
  test.each<[string, string | undefined, Record<string, string | undefined>, string]>([
    ["flag beats both env vars", flag, { TASKQ_URL: taskq, AMQP_URL: amqp }, flag],
    ["flag beats TASKQ_URL", flag, { TASKQ_URL: taskq }, flag],
    ["flag with no env", flag, {}, flag],
    ["TASKQ_URL beats AMQP_URL", undefined, { TASKQ_URL: taskq, AMQP_URL: amqp }, taskq],
    ["TASKQ_URL alone", undefined, { TASKQ_URL: taskq }, taskq],
    ["AMQP_URL when TASKQ_URL is unset", undefined, { AMQP_URL: amqp }, amqp],
    ["AMQP_URL when TASKQ_URL is undefined", undefined, { TASKQ_URL: undefined, AMQP_URL: amqp }, amqp],
    ["default when nothing is set", undefined, {}, DEFAULT_URL],
    ["other env vars are ignored", undefined, { RABBITMQ_URL: "amqp://x", CLOUDAMQP_URL: "amqp://y" }, DEFAULT_URL],
  ])("%s", (_name, flagValue, env, expected) => {
    expect(resolveUrls(flagValue, env)).toEqual([expected]);
  });

  test.each<[string, string[] | undefined, Record<string, string | undefined>, string[]]>([
    [
      "every --url, in order",
      ["amqp://a", "amqp://b", "amqp://c"],
      { TASKQ_URL: taskq },
      ["amqp://a", "amqp://b", "amqp://c"],
    ],
    [
      "TASKQ_URL as a comma-separated list",
      undefined,
      { TASKQ_URL: "amqp://a:1, amqp://b:2,amqp://c:3" },
      ["amqp://a:1", "amqp://b:2", "amqp://c:3"],
    ],
    ["AMQP_URL as a list", undefined, { AMQP_URL: "amqp://a,amqp://b" }, ["amqp://a", "amqp://b"]],
    ["no --url at all falls back to the environment", [], { TASKQ_URL: taskq }, [taskq]],
  ])("a list: %s", (_name, flags, env, expected) => {
    expect(resolveUrls(flags, env)).toEqual(expected);
  });

  test("the default is the local guest broker", () => {
    expect(DEFAULT_URL).toBe("amqp://guest:guest@localhost:5672");
  });
});

describe("parseBrokerUrls", () => {
  test.each<[string, string[], RegExp]>([
    [
      "names the bad entry of a list",
      ["amqp://a", "http://b", "amqp://c"],
      /^invalid broker URL 2 of 3: the scheme must be amqp/,
    ],
    ["an empty entry (a stray comma)", ["amqp://a", ""], /broker URL 2 of 2 is empty/],
    ["one bad URL keeps the plain message", ["amqp://h:0"], /^invalid broker URL: port 0$/],
  ])("%s", (_name, urls, message) => {
    expect(expectUsageError(() => parseBrokerUrls(urls)).message).toMatch(message);
  });

  test("a password in a bad entry is never echoed", () => {
    const error = expectUsageError(() => parseBrokerUrls(["amqp://u:secret@a", "amqp://u:s3cret@[bad"]));
    expect(error.message).not.toContain("s3cret");
  });
});

describe("parseBrokerUrl", () => {
  type Parsed = {
    protocol: "amqp" | "amqps";
    host: string;
    port: number;
    vhost: string;
    user: string;
    password: string;
  };
  test.each<[string, Parsed]>([
    [
      "amqp://guest:guest@localhost:5672",
      { protocol: "amqp", host: "localhost", port: 5672, vhost: "/", user: "guest", password: "guest" },
    ],
    [
      "amqp://alice:s3cret@rabbit.example.com:1234/prod",
      { protocol: "amqp", host: "rabbit.example.com", port: 1234, vhost: "prod", user: "alice", password: "s3cret" },
    ],
    [
      "amqp://localhost",
      { protocol: "amqp", host: "localhost", port: 5672, vhost: "/", user: "guest", password: "guest" },
    ],
    [
      "amqps://localhost",
      { protocol: "amqps", host: "localhost", port: 5671, vhost: "/", user: "guest", password: "guest" },
    ],
    [
      "amqps://bob:pw1@mq.example.net/",
      { protocol: "amqps", host: "mq.example.net", port: 5671, vhost: "/", user: "bob", password: "pw1" },
    ],
    ["amqp://h/%2F", { protocol: "amqp", host: "h", port: 5672, vhost: "/", user: "guest", password: "guest" }],
    [
      "amqp://h/%2Fstaging",
      { protocol: "amqp", host: "h", port: 5672, vhost: "/staging", user: "guest", password: "guest" },
    ],
    [
      "amqp://h/my%20vhost",
      { protocol: "amqp", host: "h", port: 5672, vhost: "my vhost", user: "guest", password: "guest" },
    ],
    [
      "amqp://[::1]:5673/x",
      { protocol: "amqp", host: "::1", port: 5673, vhost: "x", user: "guest", password: "guest" },
    ],
    [
      "amqp://u:p@[2001:db8::2]",
      { protocol: "amqp", host: "2001:db8::2", port: 5672, vhost: "/", user: "u", password: "p" },
    ],
    ["amqps://[::1]", { protocol: "amqps", host: "::1", port: 5671, vhost: "/", user: "guest", password: "guest" }],
    [
      "amqp://127.0.0.1:5999",
      { protocol: "amqp", host: "127.0.0.1", port: 5999, vhost: "/", user: "guest", password: "guest" },
    ],
    [
      "amqp://us%40er:p%40ss%3Aw0rd@h",
      { protocol: "amqp", host: "h", port: 5672, vhost: "/", user: "us@er", password: "p@ss:w0rd" },
    ],
    ["amqp://onlyuser@h", { protocol: "amqp", host: "h", port: 5672, vhost: "/", user: "onlyuser", password: "" }],
    ["AMQP://U:Pw@H", { protocol: "amqp", host: "H", port: 5672, vhost: "/", user: "U", password: "Pw" }],
  ])("%s", (url, expected) => {
    const address = parseBrokerUrl(url);
    expect({
      protocol: address.protocol,
      host: address.host,
      port: address.port,
      vhost: address.vhost,
      user: address.user,
      password: address.password,
    }).toEqual(expected);
    expect(address.url).toBe(url);
  });

  test.each([
    ["amqp://alice:s3cret@h:1234/prod", "amqp://alice:***@h:1234/prod"],
    ["amqps://bob:pw1@h", "amqps://bob:***@h"],
    ["amqp://h", "amqp://h"],
    ["amqp://onlyuser@h", "amqp://onlyuser@h"],
  ])("display of %s is %s", (url, display) => {
    expect(parseBrokerUrl(url).display).toBe(display);
  });

  // Every bad URL carries the same password; the message must never show it.
  const secret = "s3cr3tPw";
  test.each([
    ["http scheme", `http://u:${secret}@h`, "not http://"],
    ["https scheme", `https://u:${secret}@h:5672/`, "not https://"],
    ["ftp scheme", `ftp://u:${secret}@h`, "not ftp://"],
    ["garbage", "garbage", "expected amqp://"],
    ["empty string", "", "expected amqp://"],
    ["port out of range", `amqp://u:${secret}@h:99999`, "expected amqp://"],
    ["port not a number", `amqp://u:${secret}@h:port`, "expected amqp://"],
    ["space in host", `amqp://u:${secret}@h h`, "expected amqp://"],
    ["unclosed IPv6 bracket", `amqp://u:${secret}@[::1`, "expected amqp://"],
    ["no host after credentials", `amqp://u:${secret}@`, "expected amqp://"],
    ["no host at all", "amqp:///vhost", "no host"],
    ["port 0 (amqplib would quietly use 5672)", `amqp://u:${secret}@h:0`, "port 0"],
    ["heartbeat not a number", `amqp://u:${secret}@h/?heartbeat=abc`, "?heartbeat= must be a whole number, not 'abc'"],
    ["channelMax not a number", `amqp://u:${secret}@h/?channelMax=-1`, "?channelMax= must be a whole number"],
    ["frameMax not a number", `amqp://u:${secret}@h/?frameMax=1.5`, "?frameMax= must be a whole number"],
    ["frameMax below 8192 (RabbitMQ 4.1+ refuses it)", `amqp://u:${secret}@h/?frameMax=4096`, "at least 8192"],
  ])("rejects %s with exit code 2 and no password in the message", (_name, url, hint) => {
    const error = expectUsageError(() => parseBrokerUrl(url));
    expect(error.message).toContain(hint);
    expect(error.message).not.toContain(secret);
  });

  // Was a bug: these malformed URLs did not match maskUrl's
  // `scheme://user:pass@` pattern, so the error message echoes the password.
  test.each([
    ["password with a '/'", `amqp://u:pa/${secret}@h`],
    ["missing ':' after the scheme", `amqp//u:${secret}@h`],
    ["single slash after the scheme", `amqp:/u:${secret}@h`],
    ["no scheme at all", `u:${secret}@h`],
  ])("%s leaks the password into the error", (_name, url) => {
    const error = expectUsageError(() => parseBrokerUrl(url));
    expect(error.message).not.toContain(secret);
  });

  // Was a bug: decodeURIComponent threw a URIError
  // (a "bug", exit 1, with a stack) instead of a usage error.
  test.each([
    ["bad escape in the password", "amqp://guest:100%@localhost"],
    ["bad escape in the vhost", "amqp://h/%zz"],
    ["bad escape in the user", "amqp://a%zz:pw@h"],
  ])("%s is not reported as a usage error", (_name, url) => {
    expectUsageError(() => parseBrokerUrl(url));
  });
});

describe("maskUrl", () => {
  test.each([
    ["amqp://guest:guest@localhost:5672", "amqp://guest:***@localhost:5672"],
    ["amqps://alice:s3cret@h:5671/prod", "amqps://alice:***@h:5671/prod"],
    ["amqp://:onlypw@h", "amqp://:***@h"],
    ["amqp://u:p%40ss@h", "amqp://u:***@h"],
    ["amqp://u:s#cret@host", "amqp://u:***@host"],
    ["AMQP://U:Secret@H", "AMQP://U:***@H"],
    ["http://u:secret@h", "http://u:***@h"],
    ["amqp://u:secret@h:99999", "amqp://u:***@h:99999"],
    ["amqp://localhost", "amqp://localhost"],
    ["amqp://user@h", "amqp://user@h"],
    ["amqp://h/vhost:with@sign", "amqp://h/vhost:with@sign"],
    ["garbage", "garbage"],
    ["", ""],
  ])("maskUrl(%p) = %p", (url, expected) => {
    expect(maskUrl(url)).toBe(expected);
  });

  test.each([
    ["amqp://guest:guest@localhost:5672", "guest@"],
    ["amqps://alice:s3cret@h:5671/prod", "s3cret"],
    ["amqp://u:p%40ss@h", "p%40ss"],
    ["amqp://u:a:b:c@h", "a:b:c"],
  ])("maskUrl(%p) never contains %p", (url, secret) => {
    expect(maskUrl(url)).not.toContain(secret);
  });

  // Was a bug: the first "@" ended the match, so a raw
  // '@' in the password (which URL parsing accepts) leaves its tail visible.
  test("fixed: a raw '@' in the password leaves part of it visible", () => {
    expect(maskUrl("amqp://user:p@ss@host")).toBe("amqp://user:***@host");
  });
});

describe("redact", () => {
  test.each([
    [
      "the whole URL",
      "connect amqp://alice:s3cret@h:5672 failed",
      "amqp://alice:s3cret@h:5672",
      "s3cret",
      "connect amqp://alice:***@h:5672 failed",
    ],
    [
      "the raw password",
      "login refused for password s3cret",
      "amqp://alice:s3cret@h",
      "s3cret",
      "login refused for password ***",
    ],
    [
      "the URL-encoded password",
      "bad creds p%40ss%2Fw0rd at host",
      "amqp://alice:p%40ss%2Fw0rd@h",
      "p@ss/w0rd",
      "bad creds *** at host",
    ],
    [
      "raw and encoded together",
      "p@ss/w0rd vs p%40ss%2Fw0rd",
      "amqp://alice:p%40ss%2Fw0rd@h",
      "p@ss/w0rd",
      "*** vs ***",
    ],
    ["every occurrence", "s3cret s3cret s3cret", "amqp://a:s3cret@h", "s3cret", "*** *** ***"],
    [
      "text without the secret is unchanged",
      "ECONNREFUSED 127.0.0.1:5672",
      "amqp://a:s3cret@h",
      "s3cret",
      "ECONNREFUSED 127.0.0.1:5672",
    ],
  ])("removes %s", (_name, text, url, password, expected) => {
    const out = redact(text, { url, password });
    expect(out).toBe(expected);
    expect(out).not.toContain(password);
    expect(out).not.toContain(encodeURIComponent(password));
  });

  test("redacts what parseBrokerUrl decoded from the URL", () => {
    const address = parseBrokerUrl("amqp://alice:p%40ss%21w0rd@h/prod");
    expect(address.password).toBe("p@ss!w0rd");
    const out = redact(`Socket closed; url=${address.url}; pass=p@ss!w0rd; enc=p%40ss!w0rd`, address);
    expect(out).toBe("Socket closed; url=amqp://alice:***@h/prod; pass=***; enc=***");
  });

  test("passwords under 3 characters are left alone (by design: they would match too much)", () => {
    expect(redact("ok ab ok", { url: "amqp://u:ab@h", password: "ab" })).toBe("ok ab ok");
  });
});
