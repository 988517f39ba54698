import type { BrokerTarget } from "../broker/connection.ts";
import { Copier } from "../failures/copier.ts";
import { connect } from "../broker/reconnector.ts";
import { type ConsumeSpec, brokerSessions } from "./session-source.ts";
import type { Handler } from "../task.ts";
import { Worker } from "./worker.ts";
import type { WorkerEvent, WorkerOptions } from "./worker-state.ts";

export type StartOptions = WorkerOptions & ConsumeSpec;

/**
 * A worker on real brokers: sessions from `target` (reconnecting as `reconnectTimeoutMs` says),
 * copies on a connection of their own. Returns at once: await `started` to know it consumes.
 */
export function createWorker(target: BrokerTarget, options: StartOptions, handler: Handler): Worker {
  const emit = (event: WorkerEvent) => options.onEvent?.(event);
  let blocked = false;
  const copier = new Copier(() => connect(target, options.name ? { name: `${options.name} (copies)` } : {}), {
    queueType: options.queueType,
    onLegacy: (queue) => emit({ type: "legacy-queue", queue }),
    onBlocked: (reason) => {
      if ((reason !== null) === blocked) return; // said once per alarm, however many publishers see it
      blocked = reason !== null;
      emit(reason === null ? { type: "unblocked" } : { type: "blocked", reason });
    },
  });
  return new Worker(brokerSessions(target, options), copier, options, handler);
}

/** `createWorker`, resolved once it consumes (rejected if it could not start). */
export async function startWorker(target: BrokerTarget, options: StartOptions, handler: Handler): Promise<Worker> {
  const worker = createWorker(target, options, handler);
  await worker.started;
  return worker;
}
