import type { Message } from "amqplib";
import { isLost } from "../broker/connect-error.ts";
import type { Broker } from "../broker/connection.ts";
import { queueStillThere } from "../topology/queues.ts";
import { deletedWhileSending } from "./publish-error.ts";

/**
 * Which tasks a publisher sends with the mandatory flag, and which queues still need checking.
 *
 * Without the flag, a task to a queue that no longer exists is confirmed and dropped: the broker
 * has done its job (routed to nothing). With it, such a task comes back (basic.return) and the
 * publisher fails (both: test/e2e/route-check.test.ts). But the flag is not free: a classic queue
 * on RabbitMQ 3.8-3.12 answers every mandatory task with a message of its own to the channel
 * (`mandatory_received`, a leftover the channel ignores since 3.8), which costs the broker ~9% more
 * CPU per task and a publisher 2-10% of its rate (docs/performance.md, with the commands).
 *
 * So with `every` > 1, one task in `every` per queue carries the flag, starting with the first
 * (1, every + 1, 2 * every + 1, ...). A flagged task the broker confirmed without returning it
 * shows the queue was there, which covers the tasks sent to it before it without the flag
 * (`verified`); a queue whose latest unflagged tasks no confirmed flagged task covers yet is
 * `open`, and the publisher checks that it still exists before it calls them sent (flush(), and
 * send after a reconnect, before it declares the queue again). A queue deleted under a publisher
 * therefore fails it; the tasks sent to it after it went, flagged or not, are not in any queue.
 * What this cannot see: a queue deleted and declared again (by a worker starting, say) between two
 * of those proofs, where every task flagged would have shown a return for those sent in the gap.
 */
export class RouteCheck {
  /** Per queue: tasks since its last flagged one. */
  private readonly since = new Map<string, number>();
  /** Per queue with unflagged tasks not yet covered: the stamp of the latest of them. */
  private readonly open = new Map<string, number>();

  constructor(readonly every: number) {
    if (!Number.isInteger(every) || every < 1)
      throw new RangeError(`RouteCheck: every must be a positive integer, got ${every}`);
  }

  /**
   * Whether the task to `queue` with `stamp` (increasing, one per publish) carries the flag;
   * `always` for one whose own outcome someone waits for.
   */
  mandatory(queue: string, stamp: number, always = false): boolean {
    if (this.every === 1) return true;
    const n = this.since.get(queue);
    if (always || n === undefined || n >= this.every - 1) {
      this.since.set(queue, 0);
      return true;
    }
    this.since.set(queue, n + 1);
    this.open.set(queue, stamp);
    return false;
  }

  /** Queues to check, each with the stamp of its latest unflagged task. */
  unverified(): Array<[queue: string, stamp: number]> {
    return [...this.open];
  }

  /** `queue` was there after every task sent to it up to `stamp` (a flagged task confirmed, or a check). */
  verified(queue: string, stamp: number): void {
    if ((this.open.get(queue) ?? Infinity) <= stamp) this.open.delete(queue);
  }

  /**
   * Checks with the broker (a passive declare each) the queues no confirmed flagged task covers up
   * to `upTo`: the failure, or undefined when every one is still there.
   */
  async checkOpen(
    broker: Broker,
    upTo: number,
    failed: () => boolean,
  ): Promise<{ message: string; kind: "closed" | "refused" } | undefined> {
    for (const [queue] of this.unverified()) {
      if (failed()) return undefined; // the publisher failed meanwhile: its own failure is the answer
      let found: boolean;
      try {
        found = await queueStillThere(broker, queue);
      } catch (err) {
        // A lost connection is worth a reconnect (send checks the queue again there, first); anything else is the
        // answer.
        return {
          message: `could not check that queue '${queue}' still exists: ${(err as Error).message}`,
          kind: isLost(err) ? "closed" : "refused",
        };
      }
      if (!found) return { message: deletedWhileSending(queue), kind: "refused" };
      this.verified(queue, upTo);
    }
    return undefined;
  }
}

/**
 * Tasks the broker returned as unroutable whose confirm has not come yet (the broker sends the return first:
 * RabbitMQ's "Consumer Acknowledgements and Publisher Confirms" guide).
 */
export class Returns {
  private returned: Message[] = [];

  add(msg: Message): void {
    this.returned.push(msg);
  }

  /** Whether this task was returned (and forgets that return). */
  take(task: { queue: string; body: Buffer; properties: { messageId?: string } } | undefined): boolean {
    if (this.returned.length === 0 || task === undefined) return false;
    const i = this.returned.findIndex(
      (m) =>
        m.fields.routingKey === task.queue &&
        m.properties.messageId === task.properties.messageId &&
        m.content.equals(task.body),
    );
    if (i < 0) return false;
    this.returned.splice(i, 1);
    return true;
  }
}
