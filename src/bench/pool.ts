import { ExitCode, TaskqError } from "../errors.ts";
import type { WorkerProcess } from "./workers.ts";

/**
 * A replacement starts while the broker requeues its victim's tasks (and maybe a node reboots): more time than at the
 * start.
 */
const REPLACEMENT_READY_MS = 60_000;

/**
 * A round's W worker slots. A slot whose worker the bench kills gets a new
 * worker in its place: the same row on the timeline, the same `perWorker`
 * entry, so the round goes on with W workers and each slot's figures cover
 * every process that held it.
 */
export class WorkerPool {
  /** The worker holding each slot now. */
  private readonly current: WorkerProcess[] = [];
  /** Every worker ever started, killed ones too: their last lines still count. */
  private readonly all: WorkerProcess[] = [];
  private readonly consuming = new Set<WorkerProcess>();
  private stopping = false;
  /** Why the round cannot go on: a worker that exited by itself, a new one that never got to consume. */
  failure: TaskqError | undefined;

  constructor(
    size: number,
    private readonly spawn: (slot: number) => WorkerProcess,
    private readonly signal: AbortSignal,
  ) {
    for (let slot = 0; slot < size; slot++) this.add(slot);
  }

  /** Resolves once every worker consumes; throws the first one's error otherwise. */
  async ready(): Promise<void> {
    await Promise.all(this.current.map((w) => this.watchReady(w)));
  }

  /** Slots whose worker consumes now: the ones worth killing. */
  consumingSlots(): number[] {
    return this.current.flatMap((w, slot) => (this.consuming.has(w) ? [slot] : []));
  }

  /** SIGKILLs the worker in `slot` and starts another there; resolves once the new one consumes (or failed to). */
  replace(slot: number): Promise<void> {
    this.current[slot]?.kill();
    return this.watchReady(this.add(slot), REPLACEMENT_READY_MS).catch((err: unknown) => {
      if (!this.stopping) this.failure ??= err instanceof TaskqError ? err : new TaskqError(String(err));
    });
  }

  /** Drains every worker still running (SIGTERM) and waits for all their lines, killed workers' too. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.all.map((w) => w.stop()));
  }

  kill(): void {
    this.stopping = true;
    for (const w of this.all) w.kill();
  }

  private add(slot: number): WorkerProcess {
    const w = this.spawn(slot);
    this.current[slot] = w;
    this.all.push(w);
    void w.exitedWith.then((code) => {
      this.consuming.delete(w);
      if (this.stopping || w.killed || this.current[slot] !== w) return;
      // A Ctrl+C reaches the workers too, and their exit may be seen before the bench's own handler ran.
      this.failure ??= w.interrupted
        ? new TaskqError("bench interrupted", ExitCode.interrupted)
        : new TaskqError(
            `bench worker ${slot + 1} exited by itself (${code === null ? "killed by a signal" : `exit ${code}`}): ${w.lastLine}`,
          );
    });
    return w;
  }

  private async watchReady(w: WorkerProcess, timeoutMs?: number): Promise<void> {
    await w.ready(this.signal, timeoutMs);
    if (!w.killed) this.consuming.add(w);
  }
}
