import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const BROKER_SCRIPT = join(import.meta.dir, "..", "..", "scripts", "broker");

async function broker(...args: string[]): Promise<string> {
  const proc = Bun.spawn([BROKER_SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`scripts/broker ${args.join(" ")} failed (${code}): ${err}${out}`);
  return out;
}

/** The RabbitMQ versions an isolated node can run (scripts/node.sh): the machine's own 3.10, Debian's 4.0 and 4.3. */
export type RabbitVersion = "3.10" | "4.0" | "4.3";

/**
 * An isolated RabbitMQ node (own port, own data dir) for fault tests, so the
 * shared broker is never stopped or killed. With `version` 4.0 or 4.3 it runs
 * Debian's package in a root of its own; the first start on a machine builds
 * that root (about 25 s, then cached under .tools/).
 */
export class IsolatedNode {
  readonly name: string;
  readonly nodeName: string;
  readonly url: string;
  /** With `managementPort`: the management plugin's HTTP API, enabled on this node only. */
  readonly managementUrl: string | undefined;
  readonly version: RabbitVersion;

  constructor(
    label: string,
    readonly port: number,
    options: {
      managementPort?: number;
      version?: RabbitVersion;
      /** Lines of the node's rabbitmq.conf and its advanced.config (Erlang terms), written before its first start. */
      config?: { conf?: string; advanced?: string };
    } = {},
  ) {
    this.name = `taskq-${label}-${process.pid}`;
    this.nodeName = `${this.name}@localhost`;
    this.url = `amqp://guest:guest@127.0.0.1:${port}`;
    this.version = options.version ?? "3.10";
    this.managementUrl =
      options.managementPort === undefined ? undefined : `http://127.0.0.1:${options.managementPort}`;
    this.startArgs = [
      "--version",
      this.version,
      ...(options.managementPort === undefined ? [] : ["--management", String(options.managementPort)]),
    ];
    this.config = options.config;
  }

  private readonly config: { conf?: string; advanced?: string } | undefined;

  /**
   * Writes the node's own config where it has none (before its first start, or after a wipe):
   * scripts/node.sh keeps a rabbitmq.conf it finds, and reads advanced.config beside it.
   */
  private configure(): void {
    if (!this.config) return;
    const dir = join(resolve(process.env.TASKQ_NODES_DIR ?? "/tmp/taskq-nodes"), this.name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of [
      ["rabbitmq.conf", this.config.conf],
      ["advanced.config", this.config.advanced],
    ] as const) {
      if (text !== undefined && !existsSync(join(dir, file))) writeFileSync(join(dir, file), `${text}\n`);
    }
  }

  private readonly startArgs: string[];

  /**
   * Starts the node; once more if its VM died while booting without a word in its log: its
   * distribution port (AMQP + 20000) lies in Linux's ephemeral range, and an outgoing connection of
   * the moment can hold it (seen once in a fresh-clone suite). Its data is kept either way.
   */
  start = async (): Promise<string> => {
    this.configure();
    const start = () => broker("start", this.name, String(this.port), ...this.startArgs);
    try {
      return await start();
    } catch (err) {
      if (!/exited while starting/.test(String(err))) throw err;
      await Bun.sleep(1000);
      return start();
    }
  };
  stop = () => broker("stop", this.name);
  kill = () => broker("kill", this.name);
  wipe = () => broker("wipe", this.name).catch(() => "");
  ctl = (...args: string[]) => broker("ctl", this.name, ...args);
  /** A memory alarm on: the watermark set below what the node uses (it blocks every publishing connection). */
  raiseMemoryAlarm = () => this.ctl("set_vm_memory_high_watermark", "0.000001");
  clearMemoryAlarm = () => this.ctl("set_vm_memory_high_watermark", "0.4");
  memoryAlarmOn = async () => /memory/.test(await this.ctl("eval", "rabbit_alarm:get_alarms()."));
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Whether the node's AMQP port takes a connection. */
  async answers(): Promise<boolean> {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port: this.port, socket: { data() {} } });
      socket.end();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Starts the node unless it answers. For the `finally` of a test that stops or kills it, so
   * a failed assertion does not leave it down for the tests after.
   */
  async ensureRunning(): Promise<void> {
    if (!(await this.answers())) await this.start();
  }
}

/** A port unlikely to clash: 20000-24999, spread by pid. */
export const freePort = (offset = 0): number => 20000 + ((process.pid * 7 + offset) % 5000);
