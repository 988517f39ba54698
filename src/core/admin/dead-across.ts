import type { Broker } from "../broker/connection.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { sleep } from "../../util/clock.ts";

/** After a failover: passes over the dead queue, a pause apart, for the tasks the lost connection held. */
const SWEEPS = 5;
const SWEEP_PAUSE_MS = 1000;

/**
 * Runs `pass` over the dead queue, carried on across lost connections (a node of the cluster
 * killed): the reconnector finds the next node and `pass` runs again there. The tasks the lost
 * connection had fetched come back to the dead queue only once the broker notices it is gone (a
 * new leader, for a quorum queue): after a failover, the queue is passed over again a few times
 * (test/e2e/cluster.test.ts, dead requeue with a node killed).
 * `pass` must be safe to repeat (it skips what an earlier pass did, by key).
 */
export async function acrossFailovers<R extends { exists: boolean }>(
  broker: Broker,
  reconnector: Reconnector,
  pass: (current: Broker) => Promise<R>,
  options: { done: () => boolean; onLost?: ((error: Error) => void) | undefined },
): Promise<R> {
  let failovers = 0;
  return reconnector.run(
    async (current) => {
      for (let sweeps = 0; ; sweeps++) {
        const result = await pass(current);
        if (failovers === 0 || !result.exists || options.done() || sweeps >= SWEEPS) return result;
        await sleep(SWEEP_PAUSE_MS);
      }
    },
    {
      first: broker,
      onLost: (err) => {
        failovers++;
        options.onLost?.(err);
      },
    },
  );
}
