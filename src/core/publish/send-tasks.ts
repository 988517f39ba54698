import { randomBytes } from "node:crypto";
import { now } from "../../util/clock.ts";
import { isLost } from "../broker/connect-error.ts";
import { type Broker, lostWithin, whileUp } from "../broker/connection.ts";
import { ANSWER_TIMEOUT_MS, LOSS_GRACE_MS } from "../broker/liveness.ts";
import { deletedWhileSending } from "./publish-error.ts";
import { Publisher, type TaskProperties, type Unconfirmed } from "./publisher.ts";
import { PublishError } from "./publish-error.ts";
import type { QueueType } from "../topology/names.ts";
import { queueStillThere } from "../topology/queues.ts";
import { type OutgoingTask, outgoingProperties } from "./outgoing.ts";
import { type Route, SendRoutes } from "./send-routes.ts";
import type { Renewal } from "../topology/hop-queues.ts";
import type { Reconnector } from "../broker/reconnector.ts";
import { ResendSet } from "./resend.ts";
import { redact } from "../broker/url.ts";

export interface SendOptions {
  queue: string;
  queueType?: QueueType;
  /** Delivery mode 2. Default true. */
  persistent?: boolean;
  /**
   * Most unconfirmed tasks at once. Unset: adaptive, from 1024 up to 16384 while the unconfirmed
   * bodies stay under 32 MiB (the window grows only when it fills, i.e. when confirms lag).
   */
  window?: number;
  /** Each task reaches the queue this much later (0 or unset: at once), through `<queue>.delay.<ms>`. */
  delayMs?: number;
  /** The delay queues' expiry margin (default HOP_EXPIRY_MARGIN_MS, names.ts; tests use seconds). */
  expiryMarginMs?: number;
  /** Called after each task is handed to the broker (not yet confirmed). */
  onPublished?: (index: number, messageId: string) => void;
  /** Finds another connection when this one drops; without it, a drop fails the send. */
  reconnector?: Reconnector;
  onEvent?: (event: SendEvent) => void;
}

export type SendEvent =
  | { type: "disconnected"; error: string; unconfirmed: number }
  | { type: "reconnected"; resending: number }
  /**
   * The queue exists as the other type than asked (classic vs quorum): used as that type, its delay queue too. Told
   * once.
   */
  | { type: "queue-type"; queue: string; queueType: QueueType }
  | { type: "blocked"; reason: string }
  | { type: "legacy-queue"; queue: string } // the delay queue, an older taskq's: used as it is
  | { type: "unblocked" };

export interface SendResult {
  /** Tasks the broker confirmed: all of them, or `sendTasks` throws. */
  sent: number;
  /** Publishes repeated after a reconnect (unconfirmed when the connection dropped). */
  resent: number;
  reconnects: number;
  ms: number;
  /** The type the queue was used as: the one asked, or the one it was found to be. */
  queueType: QueueType;
}

/**
 * One task in this many is published mandatory; the end of the send, and a reconnect, check the
 * queue is still there (see RouteCheck: the flag on every task cost 2-10% of the rate on RabbitMQ
 * 3.10's classic queues). A queue deleted mid-send fails the send.
 */
const MANDATORY_EVERY = 128;

/**
 * While the confirm window has room, publish() is synchronous and amqplib
 * writes nothing until the event loop turns: without a turn the first task
 * would reach the broker only after a whole window (1024) was encoded, while
 * workers sit idle. So the loop turns after tasks 1, 2, 4, ... 64: the first
 * tasks go out at once, and the bulk is still encoded in long runs (a turn
 * every 128 tasks was slower: docs/performance.md, "Figures behind comments").
 */
const firstFew = (index: number) => index <= 64 && (index & (index - 1)) === 0;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The connection's own error when `err` means it went away (worth reconnecting); undefined for a
 * refusal (nack, unroutable, 403...), which sending again cannot mend. A publishing channel closed
 * without a word from the broker means its connection is closing: its 'close' follows at once (the
 * bound only keeps a broken library from hanging the send).
 */
async function connectionLost(err: unknown, broker: Broker): Promise<Error | undefined> {
  if (isLost(err) || (err instanceof PublishError && err.kind === "nacked")) return err as Error;
  if (err instanceof PublishError && err.kind === "closed") return lostWithin(broker, LOSS_GRACE_MS);
  return undefined;
}

/** Each answer send waits for before its first task on a connection (declares, the channel). */
const OPENING = (what: string) => ({ ms: ANSWER_TIMEOUT_MS, what });

/**
 * Publishes every body as one persistent task and resolves once the broker has
 * confirmed them all. Each task gets a unique message id (unless it has its own:
 * OutgoingTask) and a timestamp.
 * A queue deleted while sending fails the send (a flagged task comes back, or
 * the end's check finds it gone: MANDATORY_EVERY). With a reconnector, tasks
 * unconfirmed when the connection dropped are published again on the next one
 * (at-least-once; same message ids). A connection that stops answering is gone
 * after two missed heartbeats (see liveness.ts), as one that closes.
 */
export async function sendTasks(
  broker: Broker,
  bodies: Iterable<Buffer | OutgoingTask> | AsyncIterable<Buffer | OutgoingTask>,
  options: SendOptions,
): Promise<SendResult> {
  type Item = Buffer | OutgoingTask;
  const prefix = randomBytes(6).toString("hex");
  const started = now();
  const sync = Symbol.iterator in bodies;
  const iterator = sync
    ? (bodies as Iterable<Item>)[Symbol.iterator]()
    : (bodies as AsyncIterable<Item>)[Symbol.asyncIterator]();
  const emit = options.onEvent ?? (() => {});
  const resend = new ResendSet();
  const unchecked = new Set<string>();
  let current = broker;
  let confirmed = 0;
  let reconnects = 0;
  let index = 0;
  let queueType = options.queueType ?? "classic";
  try {
    for (;;) {
      let publisher: Publisher | undefined;
      try {
        // Queues an earlier connection sent tasks to without the flag, unchecked when it went: still
        // there before they are declared again, or those tasks may have gone with them.
        for (const queue of unchecked)
          if (!(await queueStillThere(current, queue))) throw new PublishError(deletedWhileSending(queue), "refused");
        unchecked.clear();
        const onLegacy = (name: string) => emit({ type: "legacy-queue", queue: name });
        const to = await whileUp(
          current,
          SendRoutes.open(current, {
            queue: options.queue,
            queueType,
            onLegacy,
            ...(options.delayMs ? { delayMs: options.delayMs } : {}),
            ...(options.expiryMarginMs !== undefined ? { marginMs: options.expiryMarginMs } : {}),
          }),
          OPENING(`declaring '${options.queue}'`),
        );
        if (to.queueType !== queueType) {
          queueType = to.queueType;
          emit({ type: "queue-type", queue: options.queue, queueType });
        }
        publisher = await whileUp(
          current,
          Publisher.open(current, {
            window: options.window ?? 1024,
            ...(options.window === undefined ? { maxWindow: 16_384 } : {}),
            persistent: options.persistent ?? true,
            mandatoryEvery: MANDATORY_EVERY,
            onBlocked: (reason) => emit(reason === null ? { type: "unblocked" } : { type: "blocked", reason }),
          }),
          OPENING("opening a publishing channel"),
        );
        for (let task = resend.next(); task; task = resend.next()) {
          const again = await whileUp(current, to.again(task));
          await publish(publisher, task, resend, again.renew);
        }
        for (;;) {
          const next = sync ? (iterator as Iterator<Item>).next() : await (iterator as AsyncIterator<Item>).next();
          if (next.done) break;
          index++;
          const item = next.value;
          const timestamp = Math.floor(Date.now() / 1000);
          // A bare Buffer (the CLI's every task) takes the short way: no look at its own options.
          const own = Buffer.isBuffer(item) ? undefined : item;
          const properties: TaskProperties = own
            ? outgoingProperties(own, `${prefix}-${index}`, timestamp)
            : { messageId: `${prefix}-${index}`, timestamp };
          let route: Route = to.main;
          if (own?.delayMs !== undefined) route = await whileUp(current, to.delayed(own.delayMs));
          // An older taskq's delay queue takes no renewal: checked again when due (HopQueues).
          else if (route.expiration !== undefined && !route.renew)
            route = await whileUp(current, to.delayed(Number(route.expiration)));
          if (route.expiration) properties.expiration = route.expiration;
          const wait = publish(
            publisher,
            { queue: route.queue, body: own ? own.body : (item as Buffer), properties },
            resend,
            route.renew,
          );
          options.onPublished?.(index, properties.messageId as string);
          if (wait !== undefined) await wait;
          else if (firstFew(index)) await nextTurn();
        }
        await publisher.flush();
        confirmed += publisher.confirmed;
        // Each task is confirmed once: on the connection that took it, or re-sent on a later one.
        if (confirmed !== index) throw new Error(`sendTasks: ${confirmed} confirms for ${index} tasks`);
        return { sent: confirmed, resent: resend.resent, reconnects, ms: now() - started, queueType };
      } catch (err) {
        const lost = options.reconnector ? await connectionLost(err, current) : undefined;
        if (!options.reconnector || !lost) throw err;
        // A connection that got tasks confirmed ended whatever outage came before it (a nack too:
        // else a second nack long after the first, on a healthy connection, would fail the send).
        if ((publisher?.confirmed ?? 0) > 0) options.reconnector.recovered();
        // A nack is sent again through the next node, within the outage's deadline; past it, it is the error.
        if (lost instanceof PublishError && options.reconnector.expired()) throw err;
        // After a nack the channel still works (test/e2e/client-answers.test.ts): let the tasks before it get
        // their confirms (a persistent task's ack can come after a later one's nack), so only the nacked ones
        // are sent again.
        if (lost instanceof PublishError && publisher) await whileUp(current, publisher.settled()).catch(() => {});
        resend.carry(publisher?.pendingTasks() ?? []);
        for (const queue of publisher?.uncheckedQueues() ?? []) unchecked.add(queue);
        confirmed += publisher?.confirmed ?? 0;
        emit({ type: "disconnected", error: redact(lost.message, current.address), unconfirmed: resend.size });
        current = await options.reconnector.replace(current, { why: lost });
        reconnects++;
        emit({ type: "reconnected", resending: resend.size });
      } finally {
        await publisher?.close();
      }
    }
  } finally {
    if (current !== broker) await current.close();
  }
}

/** Publishes `task`, remembered in `resend` until it is handed to the channel. */
function publish(
  publisher: Publisher,
  task: Unconfirmed,
  resend: ResendSet,
  renew: Renewal | undefined,
): Promise<void> | undefined {
  resend.inHand(task);
  const wait = publisher.publish(task.queue, task.body, task.properties, undefined, renew);
  if (!wait) return resend.inHand(undefined);
  return wait.then(() => resend.inHand(undefined));
}
