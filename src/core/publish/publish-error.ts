import { TaskqError } from "../../errors.ts";
import { type BrokerAddress, redact } from "../broker/url.ts";

/**
 * Why a publisher failed: `closed` when its channel went away without a word from the broker (the
 * connection is going: worth reconnecting); `nacked` when the broker could not take a task now (a
 * quorum queue between leaders, a full queue with reject-publish: test/e2e/send.test.ts): worth
 * sending again, elsewhere or later; `refused` when it said no for good (unroutable, too large,
 * channel closed with an error).
 */
export class PublishError extends TaskqError {
  constructor(
    message: string,
    readonly kind: "closed" | "nacked" | "refused",
  ) {
    super(message);
  }
}

export const unroutable = (messageId: unknown, queue: string): string =>
  `${messageId ? `task ${messageId}` : "a task"} was unroutable: no queue '${queue}' took it`;

/** `unroutable`, said of a publisher that flags one task in several: the ones between went the same way. */
export const unroutableSampled = (messageId: unknown, queue: string): string =>
  `${unroutable(messageId, queue)} (deleted while tasks were sent to it?); the tasks sent to it since the last one it took may be lost too`;

export const deletedWhileSending = (queue: string): string =>
  `queue '${queue}' was deleted while tasks were sent to it: the tasks sent to it since the last one it took may be lost`;

/** Why the broker closed a publishing channel, as the user can act on it. */
/** The broker's max message size a refusal (channelRefusal) quotes, if it is one of a task too large. */
export function maxMessageSizeOf(error: PublishError): number | undefined {
  const max = /max message size \((\d+) bytes\)/.exec(error.message);
  return max ? Number(max[1]) : undefined;
}

export function channelRefusal(err: Error, address: BrokerAddress): string {
  const size = /message size (\d+) is larger than configured max size (\d+)/.exec(err.message);
  if (size)
    return `a task of ${size[1]} bytes is larger than the broker's max message size (${size[2]} bytes): split it, or raise max_message_size`;
  return `the broker closed the publishing channel: ${redact(err.message, address)}`;
}
