import type { Broker } from "../broker/connection.ts";
import { atLeast, rabbitVersion } from "../broker/rabbit-version.ts";

export { rabbitVersion } from "../broker/rabbit-version.ts";
import { withChannel } from "../topology/queues.ts";

/**
 * How a look at a queue gives back what it fetched, so that the broker counts no delivery:
 *
 * - `nack`: RabbitMQ 4.3 and later. A basic.nack with requeue is not counted toward a quorum
 *   queue's delivery limit there (a reject, a closed channel and a lost connection are).
 * - `close`: a classic queue before 4.3. Classic queues count nothing, on any version, so the
 *   channel's close gives the tasks back in their order, as AMQP has it.
 * - `move`: a quorum queue before 4.3 (or a queue not shown to be classic): every hand-back is
 *   counted there (x-delivery-count), and 4.0 drops a task past 20 by default. Each task is
 *   copied to the queue's tail and the original acked once the copy is confirmed (dead-peek.ts).
 *
 * Shown on 3.10, 4.0 and 4.3: test/e2e/dead-peek.test.ts.
 */
export type PeekMode = "nack" | "close" | "move";

/** Whether basic.nack with requeue leaves a quorum queue's delivery count alone (RabbitMQ 4.3 on). */
export function nackIsFree(broker: Broker): boolean {
  return atLeast(rabbitVersion(broker), 4, 3);
}

/**
 * The way to look at `queue` on this broker. Before 4.3 the queue's type decides, and AMQP tells it
 * only by a declare: one with `x-queue-type: classic` succeeds on a durable classic queue of no
 * other arguments (taskq's), and a 406 closes its throwaway channel on anything else (a quorum
 * queue says "inequivalent arg 'x-queue-type'": test/e2e/broker-rules.test.ts); any failure means
 * `move`, which is safe on every type. The declare would create the queue if it were deleted since
 * the caller saw it.
 */
export async function peekModeFor(broker: Broker, queue: string): Promise<PeekMode> {
  if (nackIsFree(broker)) return "nack";
  const classic = await withChannel(broker, (channel) =>
    channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "classic" } }),
  ).then(
    () => true,
    () => false,
  );
  return classic ? "close" : "move";
}
