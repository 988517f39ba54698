import { TaskqError } from "../errors.ts";

/**
 * A node that takes longer than this to die or to boot is not coming: the round fails rather than
 * hang. Above scripts/cluster's own bound (300 s: a boot took 190 s at a load average of 20), so
 * its error line is the one shown.
 */
const NODE_CONTROL_TIMEOUT_MS = 360_000;

type Action = "kill" | "start" | "freeze" | "thaw";

/**
 * The user's `--node-control CMD`, run by /bin/sh as `CMD kill N`, `CMD start N`, `CMD freeze N`
 * and `CMD thaw N` (N = 1 for the first URL): taskq knows nothing of how the nodes run
 * (scripts/cluster, systemd, docker), only that exit 0 means done.
 */
export class NodeControl {
  constructor(
    readonly command: string,
    /** How many nodes there are: N runs from 1 to this. */
    readonly nodes: number,
    private readonly timeoutMs = NODE_CONTROL_TIMEOUT_MS,
  ) {}

  kill = (node: number): Promise<void> => this.run("kill", node);

  /** Resolves once CMD says the node is up again. */
  start = (node: number): Promise<void> => this.run("start", node);

  /** Resolves once the node is stopped where it stands (SIGSTOP: no socket closed, nothing answered). */
  freeze = (node: number): Promise<void> => this.run("freeze", node);

  /** Resolves once CMD says the frozen node answers again. */
  thaw = (node: number): Promise<void> => this.run("thaw", node);

  private async run(action: Action, node: number): Promise<void> {
    // The command as written, then the action and node as "$1" "$2": no quoting to get wrong. In a
    // session of its own, so a Ctrl+C on the terminal cannot stop a node's start half way.
    const proc = Bun.spawn(["/bin/sh", "-c", `${this.command} "$@"`, "sh", action, String(node)], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill("SIGKILL");
    }, this.timeoutMs);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    const what = `--node-control: '${this.command} ${action} ${node}'`;
    if (timedOut) throw new TaskqError(`${what} did not finish within ${this.timeoutMs / 1000}s`);
    if (code !== 0)
      throw new TaskqError(
        `${what} failed (exit ${code})${stderr.trim() ? `: ${stderr.trim().split("\n").pop()}` : ""}`,
      );
  }
}
