import { afterAll, describe, expect, test } from "bun:test";
import { deleteQueues, uniqueQueue, withChannel } from "../support/broker.ts";
import { oneLineError, runTaskq } from "../support/taskq.ts";

const SECRET = "hunter2-s3cret";
const queues: string[] = [];
afterAll(() => deleteQueues(queues));

// Each row: argv, expected exit code, a fragment of the one-line error.
const cases: Array<[string, string[], number, RegExp]> = [
  ["non-numeric --count", ["send", "--count", "ten"], 2, /--count.*expected a whole number, got 'ten'/],
  ["negative --prefetch", ["work", "--prefetch", "-1"], 2, /prefetch/],
  ["zero --prefetch", ["work", "--prefetch", "0"], 2, /must be from 1 to 65535, got 0/],
  ["huge --concurrency", ["work", "--concurrency", "5000"], 2, /concurrency.*must be from 1 to 1000/],
  [
    "prefetch below concurrency",
    ["work", "--concurrency", "4", "--prefetch", "2"],
    2,
    /--prefetch \(2\) must be at least --concurrency \(4\)/,
  ],
  ["bad duration", ["work", "--idle-exit", "soon"], 2, /expected a duration like 500ms/],
  ["unknown flag", ["send", "--colour"], 2, /unknown option '--colour'/],
  ["unknown command", ["sned"], 2, /unknown command 'sned'/],
  ["missing command after --", ["work", "--"], 2, /missing command after '--'/],
  [
    "command that does not exist",
    ["work", "--", "/no/such/handler"],
    2,
    /command not found or not executable: \/no\/such\/handler/,
  ],
  ["--file with --count", ["send", "--file", "x", "--count", "3"], 2, /--file cannot be combined/],
  ["missing --file", ["send", "--file", "/no/such/file"], 2, /cannot read --file '\/no\/such\/file'/],
  ["--file that is a directory", ["send", "--file", "/tmp"], 2, /cannot read --file '\/tmp': it is a directory/],
  ["empty message", ["send", ""], 2, /a task body cannot be empty/],
  [
    "bad URL scheme",
    ["send", "--url", `http://guest:${SECRET}@localhost`, "x"],
    2,
    /scheme must be amqp:\/\/ or amqps:\/\//,
  ],
  [
    "unreachable broker",
    ["send", "--url", `amqp://guest:${SECRET}@127.0.0.1:1`, "x"],
    3,
    /cannot reach the broker at 127\.0\.0\.1:1: connection refused/,
  ],
  [
    "refused login",
    ["work", "--url", `amqp://guest:${SECRET}@127.0.0.1:5672`],
    3,
    /refused the login for user 'guest'/,
  ],
  ...(["send", "work", "status", "dead list", "dead requeue", "purge", "remove"] as const).map(
    (cmd): [string, string[], number, RegExp] => [
      `a queue name the broker reserves (${cmd}), before connecting`,
      [...cmd.split(" "), "-q", "amq.taskq-test", "--url", "amqp://127.0.0.1:1"],
      2,
      /^taskq: option '-q, --queue <name>' argument 'amq\.taskq-test' is invalid\. names starting with 'amq\.' are reserved by the broker; use another --queue\.$/,
    ],
  ),
  [
    "an empty queue name",
    ["work", "-q", "", "--url", "amqp://127.0.0.1:1"],
    2,
    /a queue name is 1 to 238 bytes long \(taskq adds up to 17 for its retry, delay and dead queues\), got 0/,
  ],
  [
    "a 239-byte queue name",
    ["status", "-q", "q".repeat(239), "--url", "amqp://127.0.0.1:1"],
    2,
    /a queue name is 1 to 238 bytes long .*, got 239/,
  ],
  ["--count 0", ["send", "-n", "0"], 2, /--count.*must be from 1 to 1000000000, got 0/],
  [
    "URL option that is not a number",
    ["send", "--url", `amqp://guest:${SECRET}@127.0.0.1:5672/?heartbeat=abc`, "x"],
    2,
    /\?heartbeat= must be a whole number, not 'abc'/,
  ],
  ["URL with port 0", ["send", "--url", `amqp://guest:${SECRET}@127.0.0.1:0`, "x"], 2, /invalid broker URL: port 0/],
  [
    "unknown vhost",
    ["send", "--url", "amqp://guest:guest@127.0.0.1:5672/no-such-vhost", "x"],
    3,
    /refused access to vhost 'no-such-vhost'/,
  ],
];

describe("bad input: one line on stderr, documented exit code, no stack, no password", () => {
  test.each(cases)("%s", async (_label, argv, code, pattern) => {
    const r = await runTaskq(argv, { timeoutMs: 15_000 });
    expect(r.code).toBe(code);
    expect(oneLineError(r.stderr)).toMatch(pattern);
    expect(r.stderr).toStartWith("taskq: ");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  test("the password from TASKQ_URL never shows either", async () => {
    const r = await runTaskq(["send", "x"], { env: { TASKQ_URL: `amqp://guest:${SECRET}@127.0.0.1:5672` } });
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain(SECRET);
  });

  test("a queue that exists with other arguments: says so and how to fix it", async () => {
    const queue = uniqueQueue("bad-406");
    queues.push(queue);
    await withChannel((ch) => ch.assertQueue(queue, { durable: true, arguments: { "x-max-length": 10 } }));
    for (const argv of [
      ["send", "-q", queue, "x"],
      ["work", "-q", queue],
    ]) {
      const r = await runTaskq(argv);
      expect(r.code).toBe(1);
      const line = oneLineError(r.stderr);
      expect(line).toContain(`queue '${queue}' already exists with other settings`);
      expect(line).toContain("x-max-length");
      expect(line).toEndWith(`; it is empty: use another --queue, or 'taskq remove -q ${queue}' and run this again`);
    }
  });

  test("--help and --version exit 0", async () => {
    const help = await runTaskq(["work", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--prefetch");
    const version = await runTaskq(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+ \(\w+\)\n$/);
  });
});
