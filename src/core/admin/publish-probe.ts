import type { Broker } from "../broker/connection.ts";

/** How long a probe may go unconfirmed before the connection is taken as blocked. */
const PROBE_MS = 2000;

/**
 * Whether `broker` takes publishes now: empty messages to no queue (the broker drops them and
 * confirms them at once: test/e2e/broker-rules.test.ts) on a confirm channel of its own, each
 * answered within `ms`. Two, one after the other: during a memory or disk alarm RabbitMQ still
 * handles the first publish a connection sends (3.10: confirmed at once), then reads nothing more
 * from it, so the second is held (test/e2e/alarm-first-publish.test.ts; the look that fails at
 * once: test/e2e/dead-peek-alarm.test.ts). Asked before a look that must publish takes any task, so
 * an alarm makes it read nothing rather than hold tasks it could then neither move nor give back
 * uncounted.
 */
export async function takesPublishes(broker: Broker, ms = PROBE_MS): Promise<boolean> {
  const channel = await broker.model.createConfirmChannel();
  channel.on("error", () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const probe = () =>
    Promise.race([
      new Promise<boolean>((resolve) =>
        channel.publish("", "taskq.probe.to-no-queue", Buffer.alloc(0), {}, (err) => resolve(!err)),
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false))),
    ]).finally(() => clearTimeout(timer));
  try {
    return (await probe()) && (await probe());
  } finally {
    void channel.close().catch(() => {}); // a blocked connection answers the close only once the alarm lifts
  }
}
