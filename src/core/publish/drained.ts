import type { ConfirmChannel } from "amqplib";

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
