import { now, sleep } from "../util/clock.ts";
import type { ChaosSpec } from "./chaos.ts";
import type { NodeControl } from "./node-control.ts";

/** One fault injected during a round. */
export interface Fault {
  kind: "worker" | "node";
  /** The worker's slot (its timeline row) or the node (its place in the URL list), from 1. */
  target: number;
  /** When it was killed: absolute while the round runs, ms since the first publish in a RunResult. */
  at: number;
  /** When it was back (the new worker consuming, the node started); absent if it was not before the round ended. */
  back?: number;
}

/** What the injector acts on. */
export interface FaultTargets {
  /** Slots (from 0) whose worker consumes now. */
  consumingSlots(): number[];
  /** SIGKILLs the worker in `slot` and starts another there; resolves once that one consumes. */
  replaceWorker(slot: number): Promise<void>;
  nodes?: Pick<NodeControl, "nodes" | "kill" | "start">;
}

/**
 * Runs each `--chaos` spec on its own clock from construction until `stop`:
 * kill-worker SIGKILLs a random consuming worker every interval and starts a
 * new one in its slot; kill-node kills a random node every interval and starts
 * it again. Either waits for the last victim to be back (consuming, started)
 * before the next kill, so never more than one worker is being replaced and
 * never more than one node is down: the round keeps making progress on a
 * machine where a worker takes longer than the interval to start.
 */
export class FaultInjector {
  readonly faults: Fault[] = [];
  /** Why injecting failed (a node-control command that failed): the round cannot prove anything then. */
  failure: Error | undefined;
  private nodeDown = false;
  private lastBack = 0;
  private readonly stopped = new AbortController();
  private readonly stopping = new Promise<void>((resolve) => this.stopped.signal.addEventListener("abort", () => resolve(), { once: true }));
  private readonly loops: Promise<void>[];

  constructor(
    specs: readonly ChaosSpec[],
    private readonly targets: FaultTargets,
    private readonly random: () => number,
  ) {
    this.loops = specs.map((spec) => this.loop(spec));
  }

  /**
   * Whether no progress is to be expected now: a node is down or booting. The round's stall
   * clock counts from `quietSince`, so a node restart is not taken for a stall.
   */
  get recovering(): boolean {
    return this.nodeDown;
  }

  /**
   * When the last node came back. A replaced worker does not count: others consume meanwhile,
   * and kills go on while tasks are missing, so counting them would hide a stall for ever.
   */
  get quietSince(): number {
    return this.lastBack;
  }

  /** Stops injecting; a node being killed is started again first, so every node is up when this resolves. */
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
        if (spec.kind === "kill-worker") await this.killWorker();
        else if (this.targets.nodes) await this.killNode(this.targets.nodes);
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

  private async killNode(nodes: NonNullable<FaultTargets["nodes"]>): Promise<void> {
    const node = 1 + Math.floor(this.random() * nodes.nodes);
    this.nodeDown = true;
    let fault: Fault | undefined;
    let error: unknown;
    try {
      await nodes.kill(node);
      // When CMD returns the node is down: the mark goes there, not at the moment CMD was started.
      fault = { kind: "node", target: node, at: now() };
      this.faults.push(fault);
    } catch (err) {
      error = err;
    }
    // Started again even when the kill failed: never leave a node down that might be.
    try {
      await nodes.start(node);
      this.lastBack = now();
      if (fault) fault.back = this.lastBack;
    } catch (err) {
      error ??= err;
    } finally {
      this.nodeDown = false;
    }
    if (error !== undefined) throw error;
  }
}
