import type { ConsumeMessage } from "amqplib";
import type { ConsumerTimedOut } from "./consumer-timeout.ts";

/** What the worker needs of the session it runs on (a fake one in the unit tests). */
export interface WorkSession {
  /** False once the channel or the connection is gone: no ack may be written then. */
  readonly open: boolean;
  /** Delivered, not yet started (prefetch beyond concurrency). */
  readonly pending: ConsumeMessage[];
  /** Resolves when the session goes away without us closing it. */
  readonly lost: Promise<Error>;
  ack(msg: ConsumeMessage, batch: boolean): void;
  requeue(msg: ConsumeMessage): void;
  /** Changes the prefetch (`--prefetch auto`): a new consumer in the old one's place, never a channel-wide limit. */
  setPrefetch(count: number): void;
  /** How many tasks beyond concurrency `setPrefetch` can hold (absent: one). */
  readonly reserveLimit?: number;
  /** Refills take one steady round trip (a classic queue): the reserve covers one round trip, not two slow refills. */
  readonly steadyRefills?: boolean;
  /** Stops deliveries; acks written after it go out behind the cancel. */
  cancel(): Promise<void>;
  close(): Promise<void>;
  /** Removes the broker's password from a text. */
  redact(text: string): string;
  /** Delivered and not yet settled (running, held or pending), in delivery order. */
  readonly unsettled?: readonly ConsumeMessage[];
  /**
   * Told when the broker took back one consumer's deliveries and the session goes on (a 4.3 quorum queue's consumer
   * timeout).
   */
  onTimeout?: (why: ConsumerTimedOut, taken: readonly ConsumeMessage[]) => void;
}

export type Deliver = (session: WorkSession, msg: ConsumeMessage | null) => void;
