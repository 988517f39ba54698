import type { Handler, Outcome, Task } from "../core/task.ts";
import { PROTOCOL_VERSION } from "./persistent-protocol.ts";
import { HandlerSlot } from "./persistent-slot.ts";
import { DEFAULT_STDERR_TAIL } from "./stderr-tail.ts";

export interface PersistentOptions {
  /** Processes kept running, one task at a time each: the worker's concurrency. */
  slots: number;
  /** The queue, in TASKQ_QUEUE. */
  queue: string;
  /**
   * Fail a task whose answer takes longer: its process is killed (SIGTERM, SIGKILL after `killAfterMs`)
   * and started again.
   */
  timeoutMs?: number;
  killAfterMs?: number;
  /** The longest wait for a process's handshake line (default 30 s). */
  startTimeoutMs?: number;
  /** Tasks one process answers before a fresh one replaces it (default 0: never). */
  maxTasksPerProcess?: number;
  /** Bytes of stderr written during a failed task kept for its retry and dead copies (default 2048). */
  stderrTail?: number;
  /** Told (once) when the handler keeps failing to start: the caller stops its worker. */
  onFatal: (why: string) => void;
  /** Lines about the processes (a restart, a stray line), for stderr. */
  say: (line: string) => void;
}

/** A handler whose processes live across tasks: `start()` before the first task, `close()` after the last. */
export interface PersistentHandler {
  readonly handler: Handler;
  /** Starts every slot's process and waits for their handshakes; rejects with the first problem. */
  start(): Promise<void>;
  /**
   * Starts no process from now on and kills those still before their handshake (a drain: the
   * processes running a task finish it); `start()` then rejects.
   */
  drain(): void;
  /** Drains, closes every process's stdin, waits `graceMs` for them to exit, then kills what is left. */
  close(graceMs: number): Promise<void>;
}

/** The worker's environment minus the broker URLs: they may hold a password a handler need not see. */
function handlerEnv(queue: string, slot: number): Record<string, string | undefined> {
  const { TASKQ_URL: _t, AMQP_URL: _a, ...env } = process.env;
  return { ...env, TASKQ_QUEUE: queue, TASKQ_PROTOCOL: String(PROTOCOL_VERSION), TASKQ_SLOT: String(slot) };
}

const toStderr = (chunk: Uint8Array) => void process.stderr.write(chunk);

/**
 * Runs `argv` once per slot and keeps it running: each task is written to a free process's stdin
 * and its outcome read from its stdout (persistent-protocol.ts). The worker never runs more
 * tasks at once than its concurrency, so a call always finds a slot free; should it not, it
 * waits for one (the invariant: one task per process at a time).
 */
export function persistentHandler(argv: readonly string[], options: PersistentOptions): PersistentHandler {
  let fatal = false;
  const slots = Array.from(
    { length: options.slots },
    (_, i) =>
      new HandlerSlot(i + 1, {
        spec: {
          argv: [...argv],
          env: handlerEnv(options.queue, i + 1),
          startTimeoutMs: options.startTimeoutMs ?? 30_000,
          writeStderr: toStderr,
        },
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        killAfterMs: options.killAfterMs ?? 5000,
        stderrTail: options.stderrTail ?? DEFAULT_STDERR_TAIL,
        maxTasksPerProcess: options.maxTasksPerProcess ?? 0,
        fatal: (why) => {
          if (fatal) return;
          fatal = true;
          options.onFatal(why);
        },
        say: options.say,
      }),
  );
  const free = [...slots].reverse();
  const waiting: Array<(slot: HandlerSlot) => void> = [];
  const handler: Handler = async (task: Task, signal: AbortSignal): Promise<Outcome> => {
    const slot = free.pop() ?? (await new Promise<HandlerSlot>((resolve) => waiting.push(resolve)));
    try {
      return await slot.run(task, signal);
    } finally {
      const next = waiting.shift();
      if (next) next(slot);
      else free.push(slot);
    }
  };
  return {
    handler,
    start: async () => {
      const started = await Promise.allSettled(slots.map((s) => s.start()));
      const failure = started.find((r) => r.status === "rejected");
      if (failure === undefined) return;
      await Promise.all(slots.map((s) => s.close(0)));
      throw failure.reason;
    },
    drain: () => {
      for (const slot of slots) slot.drain();
    },
    close: async (graceMs) => {
      await Promise.all(slots.map((s) => s.close(graceMs)));
    },
  };
}
