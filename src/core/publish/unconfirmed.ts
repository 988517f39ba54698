import type { Options } from "amqplib";

/** Properties of a task as published; everything else AMQP allows passes through. */
export type TaskProperties = Omit<Options.Publish, "mandatory" | "deliveryMode" | "persistent">;

/** A task handed to the broker and not yet confirmed: kept so it can be sent again. */
export interface Unconfirmed {
  queue: string;
  body: Buffer;
  properties: TaskProperties;
}
