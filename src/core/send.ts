import { randomBytes } from "node:crypto";
import type { Broker } from "./connection.ts";
import { Publisher } from "./publisher.ts";
import { declareQueues } from "./queue.ts";
import { now } from "../util/clock.ts";

export interface SendOptions {
  queue: string;
  /** Delivery mode 2. Default true. */
  persistent?: boolean;
  /** Most unconfirmed tasks at once. */
  window?: number;
  /** Called after each task is handed to the broker (not yet confirmed). */
  onPublished?: (index: number, messageId: string, at: number) => void;
}

export interface SendResult {
  /** Tasks the broker confirmed: all of them, or `sendTasks` throws. */
  sent: number;
  ms: number;
}

/**
 * Publishes every body as one persistent task and resolves once the broker has
 * confirmed them all. Each task gets a unique message id and a timestamp.
 */
export async function sendTasks(broker: Broker, bodies: Iterable<Buffer> | AsyncIterable<Buffer>, options: SendOptions): Promise<SendResult> {
  await declareQueues(broker, [options.queue]);
  const publisher = await Publisher.open(broker, { window: options.window ?? 1024, persistent: options.persistent ?? true });
  const prefix = randomBytes(6).toString("hex");
  const started = now();
  try {
    let index = 0;
    const one = (body: Buffer): Promise<void> | undefined => {
      index++;
      const messageId = `${prefix}-${index}`;
      const wait = publisher.publish(options.queue, body, { messageId, timestamp: Math.floor(Date.now() / 1000) });
      options.onPublished?.(index, messageId, now());
      return wait;
    };
    // Sync sources (templates, the bench) skip an await per task unless the window is full.
    if (Symbol.iterator in bodies) {
      for (const body of bodies) {
        const wait = one(body);
        if (wait) await wait;
      }
    } else {
      for await (const body of bodies) await one(body);
    }
    await publisher.flush();
    return { sent: publisher.confirmed, ms: now() - started };
  } finally {
    await publisher.close();
  }
}
