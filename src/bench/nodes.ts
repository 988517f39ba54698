import type { Broker, BrokerTarget } from "../core/broker/connection.ts";
import { deleteQueues } from "../core/topology/queues.ts";
import { Reconnector } from "../core/broker/reconnector.ts";
import type { SendEvent } from "../core/publish/send-tasks.ts";
import { durationText } from "../util/duration.ts";
import type { RoundChaos } from "./chaos.ts";

// What a round needs when its broker is several nodes: where each worker starts, how the sender
// fails over, and how the queues are deleted after the round's own connection went down with a node.

/**
 * The URL list for worker `slot`, starting at node slot+1 (round robin): on a cluster the workers
 * connect to every node, so a node's kill always takes some of them with it, and each fails over
 * to the next node in its list.
 */
export function workerUrls(urls: readonly string[], slot: number): string {
  const first = slot % urls.length;
  return [...urls.slice(first), ...urls.slice(0, first)].join(",");
}

/** The sender fails over to the other URLs and keeps trying this long (a node being killed may be the one it uses). */
export function senderFailover(target: BrokerTarget, chaos: RoundChaos) {
  const say = chaos.say ?? (() => {});
  return {
    reconnector: new Reconnector(target, {
      timeoutMs: chaos.reconnectTimeoutMs,
      name: "taskq bench",
      onAttempt: (a) => say(`send: ${a.error.message}; next try in ${durationText(Math.round(a.delayMs))}`),
    }),
    onEvent: (e: SendEvent) => {
      if (e.type === "disconnected")
        say(`send: ${e.error}; reconnecting (${e.unconfirmed} unconfirmed task(s) will be sent again)`);
      else if (e.type === "reconnected") say(`send: reconnected; sending ${e.resending} unconfirmed task(s) again`);
    },
  };
}

/** Deletes the round's queues; on a new connection when the round's own went down with a node. */
export async function removeQueues(broker: Broker, target: BrokerTarget, queues: string[]): Promise<void> {
  const reconnector = new Reconnector(target, { timeoutMs: target.connectTimeoutMs, name: "taskq bench" });
  // Best effort: a round that could not tidy up still reports what it measured.
  await reconnector.run((current) => deleteQueues(current, queues), { first: broker }).catch(() => {});
}
