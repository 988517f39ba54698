import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROKER_PORT, deleteQueues, rabbitmqctl, uniqueQueue, waitFor, withChannel } from "../support/broker.ts";
import { type RunResult, TaskqProcess, oneLineError, runTaskq } from "../support/taskq.ts";

const queues: string[] = [];
const q = (label: string) => {
  const name = uniqueQueue(label);
  queues.push(name, `${name}.dead`, `${name}.retry.100`, `${name}.retry.200`);
  return name;
};
const procs: TaskqProcess[] = [];
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "taskq-sec-"));
  dirs.push(dir);
  return dir;
};

const ctl = (...args: string[]): Promise<string> => rabbitmqctl(...args);

// Throwaway users on the shared broker (users are data, not settings): deleted in afterAll.
const tag = randomBytes(5).toString("hex");
const user = `taskq-sec-${tag}`;
const noPermUser = `taskq-sec-${tag}-noperm`;
// Distinctive, and full of characters a URL must percent-encode.
const password = `Pw${randomBytes(6).toString("hex")}:s@cr/t%?#&`;
const wrongPassword = `Wr${randomBytes(6).toString("hex")}:n0t@it`;
const enc = encodeURIComponent;
const url = `amqp://${user}:${enc(password)}@127.0.0.1:${BROKER_PORT}`;
/** The same password spelled the other way users write it: ':' left raw (legal in the userinfo's password). */
const urlRawColon = `amqp://${user}:${enc(password).replace(/%3A/g, ":")}@127.0.0.1:${BROKER_PORT}`;
const wrongUrl = `amqp://${user}:${enc(wrongPassword)}@127.0.0.1:${BROKER_PORT}`;
const DENIED_PREFIX = `taskq-sec-denied-${tag}`;

/** Every spelling of a secret that must never be printed. */
const secretForms = (secret: string) => [secret, enc(secret), enc(secret).replace(/%3A/g, ":"), secret.slice(0, 14)];
const SECRETS = [...secretForms(password), ...secretForms(wrongPassword)];

function expectNoSecret(label: string, r: { stdout: string; stderr: string }): void {
  for (const s of SECRETS) {
    for (const [stream, text] of [
      ["stdout", r.stdout],
      ["stderr", r.stderr],
    ] as const) {
      if (text.includes(s)) throw new Error(`${label}: ${stream} shows the password (${JSON.stringify(s)}):\n${text}`);
    }
  }
}

beforeAll(async () => {
  await ctl("add_user", user, password);
  // Everything, except configuring queues named DENIED_PREFIX* (for the access-refused path).
  await ctl("set_permissions", "-p", "/", user, `^(?!${DENIED_PREFIX}).*`, ".*", ".*");
  await ctl("add_user", noPermUser, password); // no permissions on any vhost: the login works, vhost '/' is refused
}, 30_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await deleteQueues(queues);
  await ctl("delete_user", user).catch(() => {});
  await ctl("delete_user", noPermUser).catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 30_000);

describe("task bodies never reach a shell, argv or the environment", () => {
  test("shell metacharacters in bodies are inert; each body arrives verbatim on stdin", async () => {
    const dir = tempDir();
    const pwned = (n: number) => join(dir, `taskq-pwned-${tag}-${n}`);
    const bodies = [
      `$(touch ${pwned(1)})`,
      `; touch ${pwned(2)}`,
      `\`touch ${pwned(3)}\``,
      `| touch ${pwned(4)}`,
      `&& touch ${pwned(5)} #`,
      `'; touch ${pwned(6)}; echo '`,
      `"; touch ${pwned(7)}; echo "`,
      `\ntouch ${pwned(8)}\n`,
      `-e --help $HOME \\n %s %n ${"${IFS}"}touch${"${IFS}"}${pwned(9)}`,
    ];
    const queue = q("sec-shell");
    const sent = await runTaskq(["send", "-q", queue, "--", ...bodies]); // "--": a body may start with "-"
    expect(sent.code).toBe(0);

    // 1. `-- cat`: the worker's stdout is exactly the bodies, back to back, in order.
    const viaCat = await runTaskq(["work", "-q", queue, "--max-tasks", String(bodies.length), "--", "cat"]);
    expect(viaCat.code).toBe(0);
    expect(viaCat.stdout).toBe(bodies.join(""));

    // 2. A recorder that saves stdin, argv and environment per task.
    expect((await runTaskq(["send", "-q", queue, "--", ...bodies])).code).toBe(0);
    const rec = join(dir, "rec");
    await Bun.write(join(rec, ".keep"), "");
    const script = join(dir, "record.sh");
    writeFileSync(
      script,
      `#!/bin/sh\ncat > "${rec}/$TASKQ_MESSAGE_ID.body"\nprintf '%s\\0' "$0" "$@" > "${rec}/$TASKQ_MESSAGE_ID.argv"\nenv > "${rec}/$TASKQ_MESSAGE_ID.env"\n`,
      { mode: 0o755 },
    );
    const viaRecorder = await runTaskq([
      "work",
      "-q",
      queue,
      "--max-tasks",
      String(bodies.length),
      "--",
      script,
      "fixed-arg",
    ]);
    expect(viaRecorder.code).toBe(0);
    const ids = readdirSync(rec)
      .filter((f) => f.endsWith(".body"))
      .map((f) => f.slice(0, -5));
    ids.sort((a, b) => Number(a.slice(a.lastIndexOf("-") + 1)) - Number(b.slice(b.lastIndexOf("-") + 1)));
    expect(ids.map((id) => readFileSync(join(rec, `${id}.body`), "utf8"))).toEqual(bodies);
    for (const id of ids) {
      expect(readFileSync(join(rec, `${id}.argv`), "utf8")).toBe(`${script}\0fixed-arg\0`);
      const env = readFileSync(join(rec, `${id}.env`), "utf8");
      for (let n = 1; n <= 9; n++) expect(env).not.toContain(pwned(n));
    }

    for (let n = 1; n <= 9; n++) expect(existsSync(pwned(n))).toBe(false);
  }, 30_000);
});

describe("the URL password never appears in any output", () => {
  test("send, work, dead, bench succeeding (text and --json), --url or TASKQ_URL, either URL spelling", async () => {
    const queue = q("sec-ok");
    const runs: Array<[string, RunResult]> = [];
    const run = async (label: string, args: string[], code: number, env: Record<string, string | undefined> = {}) => {
      const r = await runTaskq(args, { env: { TASKQ_URL: undefined, AMQP_URL: undefined, ...env }, timeoutMs: 60_000 });
      runs.push([label, r]);
      if (r.code !== code) throw new Error(`${label}: exit ${r.code}, expected ${code}\n${r.stderr}`);
      return r;
    };
    await run("send", ["send", "--url", url, "-q", queue, "one", "two"], 0);
    const sendJson = await run("send --json", ["send", "--url", urlRawColon, "-q", queue, "--json", "three"], 0);
    expect(JSON.parse(sendJson.stdout)).toMatchObject({ sent: 1, queue });
    await run("send (TASKQ_URL)", ["send", "-q", queue, "fail four"], 0, { TASKQ_URL: url });
    await run("send (AMQP_URL)", ["send", "-q", queue, "fail five"], 0, { AMQP_URL: urlRawColon });
    await run("work", ["work", "--url", url, "-q", queue, "--max-tasks", "2"], 0);
    const failing = ["--", "sh", "-c", "cat >/dev/null; exit 3"];
    await run(
      "work (fails: retry)",
      ["work", "--url", url, "-q", queue, "--max-tasks", "1", "--retry-delay", "100ms", ...failing],
      0,
    );
    const workJson = await run(
      "work --json (fails: dead)",
      ["work", "--url", url, "-q", queue, "--json", "--max-attempts", "1", "--idle-exit", "1s", ...failing],
      0,
    );
    expect(workJson.stdout).toContain('"outcome":"dead"');
    await run("work (TASKQ_URL)", ["work", "-q", queue, "--max-attempts", "1", "--idle-exit", "700ms", ...failing], 0, {
      TASKQ_URL: urlRawColon,
    });
    const list = await run("dead list", ["dead", "list", "--url", url, "-q", queue], 0);
    expect(list.stdout).toContain("dead task(s)");
    await run("dead list --json", ["dead", "list", "--url", url, "-q", queue, "--json"], 0);
    await run("dead requeue", ["dead", "requeue", "--url", url, "-q", queue, "--limit", "1"], 0);
    await run("bench", ["bench", "--url", url, "--tasks", "20", "--workers", "2", "--prefetch", "1", "--work", "0"], 0);
    const bench = await run(
      "bench --json",
      ["bench", "--url", urlRawColon, "--tasks", "20", "--workers", "2", "--prefetch", "1", "--work", "0", "--json"],
      0,
    );
    expect(JSON.parse(bench.stdout).runs[0]).toMatchObject({ tasks: 20, missing: 0, duplicates: 0 });
    for (const [label, r] of runs) expectNoSecret(label, r);
  }, 90_000);

  test("failures: wrong password, vhost refused, access refused, unreachable, bad URL, 406, lost connection", async () => {
    const queue = q("sec-fail");
    const runs: Array<[string, RunResult]> = [];
    const run = async (label: string, args: string[], code: number, env: Record<string, string | undefined> = {}) => {
      const r = await runTaskq(args, { env: { TASKQ_URL: undefined, AMQP_URL: undefined, ...env }, timeoutMs: 30_000 });
      runs.push([label, r]);
      if (r.code !== code) throw new Error(`${label}: exit ${r.code}, expected ${code}\n${r.stderr}`);
      // bench prints its progress ("round: prefetch 1...") on stderr before it connects
      const errorLines = r.stderr
        .split("\n")
        .filter((l) => !/^round: /.test(l))
        .join("\n");
      expect(oneLineError(errorLines)).toStartWith("taskq: ");
      return r;
    };
    // A refused login (exit 3), for every command, by flag and by environment.
    for (const [label, args] of [
      ["send", ["send", "-q", queue, "x"]],
      ["send --json", ["send", "-q", queue, "--json", "x"]],
      ["work", ["work", "-q", queue, "--max-tasks", "1"]],
      ["work --json", ["work", "-q", queue, "--json", "--max-tasks", "1"]],
      ["dead list", ["dead", "list", "-q", queue]],
      ["dead list --json", ["dead", "list", "-q", queue, "--json"]],
      ["dead requeue", ["dead", "requeue", "-q", queue]],
      ["bench", ["bench", "--tasks", "5", "--workers", "1", "--prefetch", "1", "--work", "0"]],
      ["bench --json", ["bench", "--tasks", "5", "--workers", "1", "--prefetch", "1", "--work", "0", "--json"]],
    ] as Array<[string, string[]]>) {
      const r = await run(`${label}: wrong password`, [...args, "--url", wrongUrl], 3);
      expect(r.stderr).toContain(`refused the login for user '${user}'`);
      await run(`${label}: wrong password (TASKQ_URL)`, args, 3, { TASKQ_URL: wrongUrl });
    }
    // The right password, but no rights on vhost '/', or on a vhost that does not exist.
    const noPerm = `amqp://${noPermUser}:${enc(password)}@127.0.0.1:${BROKER_PORT}`;
    expect((await run("send: vhost refused", ["send", "--url", noPerm, "-q", queue, "x"], 3)).stderr).toContain(
      "refused access to vhost '/'",
    );
    await run("work: vhost missing", ["work", "--url", `${url}/no-such-vhost-${tag}`, "-q", queue], 3);
    // Logged in, but not allowed to declare this queue.
    const denied = `${DENIED_PREFIX}.q`;
    const refused = await run("send: queue access refused", ["send", "--url", url, "-q", denied, "x"], 1);
    expect(refused.stderr).toContain("refused access");
    await run("work: queue access refused", ["work", "--url", url, "-q", denied, "--json"], 1);
    // Nothing listens there.
    for (const cmd of [["send", "x"], ["work"], ["dead", "list"], ["bench", "--tasks", "1"]]) {
      await run(
        `${cmd[0]}: unreachable`,
        [...cmd, "--url", `amqp://${user}:${enc(password)}@127.0.0.1:1`, "--connect-timeout", "300ms"],
        3,
      );
    }
    // URLs that do not parse: usage errors, nothing echoed.
    for (const bad of [
      `amqp://${user}:${password}@`,
      `http://${user}:${enc(password)}@127.0.0.1:5672`,
      `amqp://${user}:${enc(password)}@127.0.0.1:99999`,
      `amqp://${user}:${enc(password)}@[::1`,
      `amqp://${user}:%zz${enc(password)}@127.0.0.1`,
    ]) {
      await run(`send: bad URL ${bad.slice(0, 8)}`, ["send", "--url", bad, "x"], 2);
      await run(`work: bad URL ${bad.slice(0, 8)} (TASKQ_URL)`, ["work"], 2, { TASKQ_URL: bad });
    }
    // A broker refusal after login: 406 on a queue declared with other settings (another type
    // would be used as it is: only other arguments are refused).
    const limited = q("sec-406");
    await withChannel((ch) => ch.assertQueue(limited, { durable: true, arguments: { "x-max-length": 10 } }));
    await run("send: 406", ["send", "--url", url, "-q", limited, "x"], 1);
    await run("work: 406", ["work", "--url", url, "-q", limited], 1);
    for (const [label, r] of runs) expectNoSecret(label, r);
  }, 120_000);

  test("a connection the broker closes (CONNECTION_FORCED) is logged and reconnected without the password", async () => {
    const queue = q("sec-lost");
    const w = new TaskqProcess(["work", "--url", url, "-q", queue, "--json"], { TASKQ_URL: undefined });
    procs.push(w);
    await w.ready();
    // Close only this throwaway user's connections.
    const conns = (await ctl("list_connections", "pid", "user", "--no-table-headers"))
      .split("\n")
      .filter((l) => l.trim().split(/\s+/)[1] === user);
    expect(conns.length).toBeGreaterThan(0);
    for (const line of conns)
      await ctl("close_connection", line.trim().split(/\s+/)[0] as string, `test closes ${user}`);
    await waitFor(() => /reconnected/.test(w.stderr), 15_000, "the worker to reconnect");
    expect(w.stderr).toMatch(/lost the connection|closed/);
    expect((await runTaskq(["send", "--url", url, "-q", queue, "after"], { env: { TASKQ_URL: undefined } })).code).toBe(
      0,
    );
    await waitFor(() => w.stdout.includes('"outcome":"done"'), 10_000, "the task after the reconnect");
    w.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expectNoSecret("work: lost connection", w);
  }, 30_000);

  test("bench does not put the password in its workers' argv (ps)", async () => {
    const bench = new TaskqProcess(
      ["bench", "--url", url, "--tasks", "400", "--workers", "2", "--prefetch", "1", "--work", "5ms"],
      { TASKQ_URL: undefined },
    );
    procs.push(bench);
    const children = () =>
      readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return (
              readFileSync(`/proc/${p}/stat`, "utf8")
                .replace(/^.*\) /, "")
                .split(" ")[1] === String(bench.pid)
            );
          } catch {
            return false;
          }
        });
    const kids = await waitFor(() => (children().length >= 2 ? children() : undefined), 15_000, "the bench workers");
    const argvs = kids.map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ");
      } catch {
        return "";
      }
    });
    bench.kill("SIGINT"); // stops the workers and deletes the bench queue
    await bench.exited;
    expect(argvs.join("\n")).toContain("work");
    for (const s of SECRETS) expect(argvs.join("\n")).not.toContain(s);
  }, 30_000);
});
