import type { TaskqError } from "../../errors.ts";
import type { Renewal } from "../topology/hop-queues.ts";
import type { Publisher, TaskProperties } from "./publisher.ts";

/**
 * Sends one task and waits for the broker's word on it alone: another task nacked or returned on
 * the same publisher does not fail this one (the copies of failed tasks, one at a time).
 */
export async function publishConfirmed(
  publisher: Publisher,
  queue: string,
  body: Buffer,
  properties: TaskProperties = {},
  renew?: Renewal,
): Promise<void> {
  let settle!: (error: TaskqError | undefined) => void;
  const settled = new Promise<TaskqError | undefined>((resolve) => (settle = resolve));
  await publisher.publish(queue, body, properties, settle, renew);
  const error = await settled;
  if (error) throw error;
}
