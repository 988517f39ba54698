import { randomBytes } from "node:crypto";
import { Reconnector, connect as dialFirst } from "../core/broker/reconnector.ts";
import { outgoingProperties } from "../core/publish/outgoing.ts";
import type { SendEvent } from "../core/publish/send-tasks.ts";
import { SharedSender } from "../core/publish/shared-sender.ts";
import type { QueueType } from "../core/topology/names.ts";
import { usageError } from "../errors.ts";
import { type TaskInput, encodeTask } from "./encode.ts";
import { type ConnectionOptions, target } from "./target.ts";
import { checkedDelay } from "./task-spec.ts";
import { checkedQueue } from "./checked-queue.ts";

export interface ClientOptions extends ConnectionOptions {
  /** Where `send` puts tasks unless told otherwise; default `task_queue`, declared on connect. */
  queue?: string;
  queueType?: QueueType;
  /** Default true (delivery mode 2). */
  persistent?: boolean;
  /**
   * While the broker blocks publishing (a memory or disk alarm), a task waits unsent this long,
   * then its `send` rejects and it is never sent (default 10 000 ms). One already written waits for its confirm.
   */
  blockedTimeoutMs?: number;
  /** Told of lost connections, reconnects, alarms and a queue of the other type. */
  onEvent?: (event: SendEvent) => void;
}

export interface ClientSendOptions {
  /** Default: the client's queue. */
  queue?: string;
  /** This task reaches the queue this many ms later; a `task()`'s own `delayMs` wins. */
  delayMs?: number;
}

/** A client you keep: see {@link connect}. */
export interface Client {
  /**
   * Publishes one task (persistent, confirmed) and resolves with its message id once the broker
   * has confirmed it; rejects with a {@link TaskqError} if it refused it, no broker took it within
   * `reconnectTimeoutMs`, or it blocked publishing longer than `blockedTimeoutMs`. A task
   * unconfirmed when the connection drops is sent again on the next (at least once, same id).
   */
  send(task: TaskInput, options?: ClientSendOptions): Promise<{ id: string }>;
  /** Takes no more tasks, waits for those under way, and closes the connection. */
  close(): Promise<void>;
}

/**
 * Opens one connection and one confirming channel for many sends, shared by concurrent callers:
 * what a service keeps for its life (`send()` opens a connection per call, for scripts).
 *
 * @example
 * ```ts
 * const q = await connect({ url: "amqp://localhost", queue: "emails" });
 * const { id } = await q.send({ userId: 42 });         // resolves once confirmed
 * await q.send(task({ userId: 7 }, { id: "welcome-7" })); // an idempotency key of one's own
 * await q.close();                                     // waits for sends under way
 * ```
 */
export async function connect(options: ClientOptions = {}): Promise<Client> {
  const to = target(options);
  const queue = checkedQueue(options.queue ?? "task_queue", "queue");
  const queueType = options.queueType ?? "classic";
  // From JavaScript any string gets here: a typo would make a classic queue.
  if (queueType !== "classic" && queueType !== "quorum")
    throw usageError(`queueType must be 'classic' or 'quorum', got ${JSON.stringify(queueType)}`);
  const blockedTimeoutMs = options.blockedTimeoutMs ?? 10_000;
  if (!Number.isFinite(blockedTimeoutMs) || blockedTimeoutMs < 0)
    throw usageError(`blockedTimeoutMs must be 0 or more milliseconds, got ${blockedTimeoutMs}`);
  const name = "taskq library client";
  const sender = new SharedSender(await dialFirst(to, { name }), {
    reconnector: new Reconnector(to, { timeoutMs: options.reconnectTimeoutMs ?? 300_000, name }),
    blockedTimeoutMs,
    persistent: options.persistent ?? true,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  try {
    await sender.declare(queue, queueType);
  } catch (err) {
    await sender.close();
    throw err;
  }
  const prefix = randomBytes(6).toString("hex");
  let index = 0;
  return {
    async send(input, sendOptions = {}) {
      checkedDelay(sendOptions.delayMs, "delayMs");
      const into = sendOptions.queue === undefined ? queue : checkedQueue(sendOptions.queue, "send's queue");
      const n = ++index;
      const encoded = encodeTask(input, n);
      const own = Buffer.isBuffer(encoded) ? { body: encoded } : encoded;
      const properties = outgoingProperties(own, `${prefix}-${n}`, Math.floor(Date.now() / 1000));
      const id = properties.messageId;
      const delayMs = own.delayMs ?? sendOptions.delayMs;
      await sender.send({
        queue: into,
        queueType,
        body: own.body,
        properties,
        ...(delayMs ? { delayMs } : {}),
      });
      return { id };
    },
    close: () => sender.close(),
  };
}
