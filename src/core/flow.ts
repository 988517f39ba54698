import type { ChannelModel, ConfirmChannel } from "amqplib";

/** Resolves on the socket's 'drain', or when the channel closes (then the next publish throws). */
export function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      channel.off("drain", done);
      channel.off("close", done);
      resolve();
    };
    channel.on("drain", done);
    channel.on("close", done);
  });
}

/**
 * A connection blocked by the broker (memory or disk alarm): RabbitMQ stops
 * reading from a connection that publishes while an alarm is on. `blocked` is
 * a promise to wait on while it lasts (it ends on 'unblocked', or when the
 * channel closes).
 */
export class Alarm {
  blocked: Promise<void> | undefined;

  constructor(model: ChannelModel, channel: ConfirmChannel, onBlocked?: (reason: string | null) => void) {
    const onBlock = (reason: string) => {
      if (this.blocked) return;
      onBlocked?.(reason);
      this.blocked = new Promise<void>((resolve) => {
        const lift = () => {
          this.blocked = undefined;
          model.off("unblocked", lift);
          channel.off("close", lift);
          onBlocked?.(null);
          resolve();
        };
        model.on("unblocked", lift);
        channel.on("close", lift);
      });
    };
    model.on("blocked", onBlock);
    channel.on("close", () => model.off("blocked", onBlock));
  }
}
