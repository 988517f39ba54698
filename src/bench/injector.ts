import { now, sleep } from "../util/clock.ts";
import type { ChaosSpec } from "./chaos.ts";
import type { NodeControl } from "./node-control.ts";

/** One fault injected during a round: a worker killed, a node killed, a node frozen. */
export interface Fault {
  kind: "worker" | "node" | "freeze";
  /** The worker's slot (its timeline row) or the node (its place in the URL list), from 1. */
  target: number;
  /** When it was killed or frozen: absolute while the round runs, ms since the first publish in a RunResult. */
  at: number;
  /**
   * When it was back (the new worker consuming, the node started or thawed and answering); absent if it was not before
   * the round ended.
   */
  back?: number;
}

/** What the injector acts on. */
export interface FaultTargets {
  /** Slots (from 0) whose worker consumes now. */
  consumingSlots(): number[];
  /** SIGKILLs the worker in `slot` and starts another there; resolves once that one consumes. */
  replaceWorker(slot: number): Promise<void>;
  nodes?: Pick<NodeControl, "nodes" | "kill" | "start" | "freeze" | "thaw">;
}

/**
 * Runs each `--chaos` spec on its own clock from construction until `stop`:
 * kill-worker SIGKILLs a random consuming worker every interval and starts a
 * new one in its slot; kill-node kills a random node every interval and starts
 * it again; freeze-node stops a random node (SIGSTOP) for the spec's hold, then
 * thaws it. Each waits for the last victim to be back (consuming, started,
 * answering) before the next fault, and the two node kinds take turns, so never
 * more than one worker is being replaced and never more than one node is down
 * or frozen: the round keeps making progress on a machine where a worker takes
 * longer than the interval to start.
 */
export class FaultInjector {
  readonly faults: Fault[] = [];
  /** Why injecting failed (a node-control command that failed): the round cannot prove anything then. */
  failure: Error | undefined;
  private nodeDown = false;
  private frozenAt: number | undefined;
  /** The node faults' turn: a kill and a freeze never overlap. */
  private nodeTurn: Promise<void> = Promise.resolve();
  private lastBack = 0;
  private readonly stopped = new AbortController();
  private readonly stopping = new Promise<void>((resolve) =>
    this.stopped.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  private readonly loops: Promise<void>[];

  constructor(
    specs: readonly ChaosSpec[],
    private readonly targets: FaultTargets,
    private readonly random: () => number,
  ) {
    this.loops = specs.map((spec) => this.loop(spec));
  }

  /**
   * Whether no progress is to be expected now: a node is down, booting, frozen or thawing. The
   * round's stall clock counts from `quietSince`, so a node restart is not taken for a stall.
   */
  get recovering(): boolean {
    return this.nodeDown;
  }

  /**
   * When the node frozen now was frozen, until it answers again: a worker that loses its
   * connection meanwhile lost it to the freeze, which it could only notice by its heartbeat.
   */
  get frozenSince(): number | undefined {
    return this.frozenAt;
  }

  /**
   * When the last node came back. A replaced worker does not count: others consume meanwhile,
   * and kills go on while tasks are missing, so counting them would hide a stall for ever.
   */
  get quietSince(): number {
    return this.lastBack;
  }

  /** Stops injecting; a node killed or frozen is started or thawed first, so every node is up when this resolves. */
  async stop(): Promise<void> {
    this.stopped.abort();
    await Promise.all(this.loops);
  }

  private async loop(spec: ChaosSpec): Promise<void> {
    let next = now() + spec.everyMs;
    while (!this.stopped.signal.aborted && this.failure === undefined) {
      await sleep(next - now(), this.stopped.signal);
      if (this.stopped.signal.aborted) return;
      next += spec.everyMs;
      try {
        const nodes = this.targets.nodes;
        if (spec.kind === "kill-worker") await this.killWorker();
        else if (nodes)
          await this.nodeFault(() =>
            this.nodeOutage(nodes, spec.kind === "kill-node" ? "node" : "freeze", spec.holdMs ?? 0),
          );
      } catch (err) {
        this.failure ??= err as Error;
        return;
      }
      // A victim that took longer than the interval to come back: the next kill waits for it, no more.
      next = Math.max(next, now());
    }
  }

  private async killWorker(): Promise<void> {
    const slots = this.targets.consumingSlots();
    if (slots.length === 0) return; // all still starting: nothing running to kill this time
    const slot = slots[Math.floor(this.random() * slots.length)] as number;
    const fault: Fault = { kind: "worker", target: slot + 1, at: now() };
    this.faults.push(fault);
    // The round may end while the new worker starts: `stop` need not wait for it (the pool stops it).
    const back = this.targets.replaceWorker(slot).then(() => {
      fault.back = now();
    });
    await Promise.race([back, this.stopping]);
  }

  /** Runs `fault` once the other node kind's fault is over; none after `stop`. */
  private async nodeFault(fault: () => Promise<void>): Promise<void> {
    const before = this.nodeTurn;
    let release!: () => void;
    this.nodeTurn = new Promise((resolve) => {
      release = resolve;
    });
    try {
      await before;
      if (!this.stopped.signal.aborted && this.failure === undefined) await fault();
    } finally {
      release();
    }
  }

  /**
   * kill-node: kills a random node and starts it again. freeze-node: freezes one, keeps it frozen
   * `holdMs` (less when the round ends first) and thaws it. Either brings the node back even when
   * taking it down failed: never leave a node down that might be.
   */
  private async nodeOutage(
    nodes: NonNullable<FaultTargets["nodes"]>,
    kind: "node" | "freeze",
    holdMs: number,
  ): Promise<void> {
    const node = 1 + Math.floor(this.random() * nodes.nodes);
    const [down, up] = kind === "node" ? (["kill", "start"] as const) : (["freeze", "thaw"] as const);
    this.nodeDown = true;
    let fault: Fault | undefined;
    let error: unknown;
    try {
      await nodes[down](node);
      // When CMD returns the node is down: the mark goes there, not at the moment CMD was started.
      fault = { kind, target: node, at: now() };
      this.faults.push(fault);
      if (kind === "freeze") this.frozenAt = fault.at;
      await sleep(holdMs, this.stopped.signal);
    } catch (err) {
      error = err;
    }
    try {
      await nodes[up](node);
      this.lastBack = now();
      if (fault) fault.back = this.lastBack;
    } catch (err) {
      error ??= err;
    } finally {
      this.nodeDown = false;
      this.frozenAt = undefined;
    }
    if (error !== undefined) throw error;
  }
}
