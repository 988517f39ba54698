import { join } from "node:path";

const CLUSTER_SCRIPT = join(import.meta.dir, "..", "..", "scripts", "cluster");

/** A node of the cluster: 1 (the one the others joined), 2 or 3. */
export type NodeNumber = 1 | 2 | 3;

/**
 * A three-node RabbitMQ cluster of isolated nodes on this machine (`scripts/cluster`),
 * named and numbered for one test file, so the shared broker is never touched.
 * `up()` in `beforeAll`, `down()` in `afterAll`.
 */
export class LocalCluster {
  readonly name: string;
  /** amqp://guest:guest@127.0.0.1:PORT of nodes 1, 2 and 3 (index 0 is node 1). */
  readonly urls: readonly [string, string, string];
  /** NAME-N@localhost, for `rabbitmqctl` output (index 0 is node 1). */
  readonly nodeNames: readonly [string, string, string];
  private readonly env: Record<string, string>;

  /** `base` is node 1's AMQP port; nodes 2 and 3 take the next two. */
  constructor(
    label: string,
    readonly base = clusterBase(),
  ) {
    this.name = `taskq-${label}-${process.pid}`;
    this.urls = [1, 2, 3].map((n) => `amqp://guest:guest@127.0.0.1:${base + n - 1}`) as unknown as [
      string,
      string,
      string,
    ];
    this.nodeNames = [1, 2, 3].map((n) => `${this.name}-${n}@localhost`) as unknown as [string, string, string];
    this.env = { TASKQ_CLUSTER_NAME: this.name, TASKQ_CLUSTER_BASE: String(base) };
  }

  url = (n: NodeNumber): string => this.urls[n - 1] as string;
  nodeName = (n: NodeNumber): string => this.nodeNames[n - 1] as string;

  /**
   * Starts the three nodes and waits until they form one cluster (idempotent). Once more if a node's VM died while
   * booting: its distribution port (AMQP + 20000) lies in Linux's ephemeral range, and an outgoing connection of the
   * moment can hold it (as IsolatedNode.start; seen once in a fresh-clone suite).
   */
  async up(): Promise<void> {
    const up = () => this.run("up");
    const out = await up().catch(async (err: unknown) => {
      if (!/exited while starting/.test(String(err))) throw err;
      await Bun.sleep(1000);
      return up();
    });
    const printed = out.trim().split("\n");
    if (printed.join(",") !== this.urls.join(","))
      throw new Error(`scripts/cluster up printed ${printed.join(" ")}, expected ${this.urls.join(" ")}`);
  }

  /** Stops the three nodes and deletes their data; never throws (for `afterAll`). */
  down = (): Promise<string> => this.run("down").catch(() => "");
  /** kill -9 node n's Erlang VM. */
  kill = (n: NodeNumber): Promise<string> => this.run("kill", String(n));
  /** Starts node n again (it rejoins the cluster) and waits until it runs. */
  start = (n: NodeNumber): Promise<string> => this.run("start", String(n));
  /** kill -STOP node n's VM: no socket closed, nothing answered; resolves once it is stopped. */
  freeze = (n: NodeNumber): Promise<string> => this.run("freeze", String(n));
  /** kill -CONT node n's VM; resolves once it answers AMQP again. */
  thaw = (n: NodeNumber): Promise<string> => this.run("thaw", String(n));
  /** One line a node ("N NAME URL running|starting|frozen|stopped"); throws unless all three run. */
  status = (): Promise<string> => this.run("status");
  /** rabbitmqctl against node n; resolves to its stdout. */
  ctl = (n: NodeNumber, ...args: string[]): Promise<string> => this.run("ctl", String(n), ...args);

  /** The nodes node n's `cluster_status` lists as running. */
  async runningNodes(n: NodeNumber = 1): Promise<string[]> {
    const status = JSON.parse(await this.ctl(n, "-q", "cluster_status", "--formatter", "json")) as {
      running_nodes?: string[];
    };
    return (status.running_nodes ?? []).toSorted();
  }

  private async run(...args: string[]): Promise<string> {
    const proc = Bun.spawn([CLUSTER_SCRIPT, ...args], {
      env: { ...process.env, ...this.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`scripts/cluster ${args.join(" ")} failed (${code}): ${err.trim()}${out}`);
    return out;
  }
}

/** Three ports in a row for the suite's cluster. */
function clusterBase(): number {
  // 25000-28999 (+2 for nodes 2 and 3): never the isolated nodes' 20000-24999 (freePort), as the
  // suite's cluster stays up while other files start their own nodes.
  return 25000 + ((process.pid * 7) % 4000);
}

let suite: LocalCluster | undefined;
let suiteUp: Promise<void> | undefined;

/**
 * The suite's one cluster (booting three nodes costs a minute or more on two cores): started on
 * first use by any test file, stopped once after every file (test/support/teardown.ts, preloaded).
 * A file that kills a node starts it again before it ends.
 */
export async function suiteCluster(): Promise<LocalCluster> {
  suite ??= new LocalCluster("suite");
  suiteUp ??= suite.up();
  await suiteUp;
  return suite;
}

/** Stops the suite's cluster if a test started it. */
export async function downSuiteCluster(): Promise<void> {
  if (suite) await suite.down();
}
