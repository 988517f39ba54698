import type { ChannelModel, ConfirmChannel } from "amqplib";

/**
 * A connection's alarm state, shared by every publisher on it: the broker says `blocked` once per connection
 * (test/e2e/alarm-first-publish.test.ts).
 */
interface ConnectionAlarm {
  reason: string | null;
  readonly listeners: Set<(reason: string | null) => void>;
}

const alarms = new WeakMap<ChannelModel, ConnectionAlarm>();

function connectionAlarm(model: ChannelModel): ConnectionAlarm {
  let alarm = alarms.get(model);
  if (alarm) return alarm;
  const state: ConnectionAlarm = { reason: null, listeners: new Set() };
  model.on("blocked", (reason: string) => {
    state.reason = reason;
    for (const listener of state.listeners) listener(reason);
  });
  model.on("unblocked", () => {
    state.reason = null;
    for (const listener of state.listeners) listener(null);
  });
  alarms.set(model, state);
  alarm = state;
  return alarm;
}

/**
 * Follows `model`'s alarm from now on and says whether it is blocked. Whoever publishes on a
 * connection first must call it before that publish: the broker says `blocked` once, and a
 * publisher opened later on the connection learns of it only from this shared state.
 */
export function alarmOf(model: ChannelModel): { readonly reason: string | null } {
  return connectionAlarm(model);
}

/**
 * A connection blocked by the broker (memory or disk alarm): RabbitMQ stops
 * reading from a connection that publishes while an alarm is on
 * (test/e2e/faults.test.ts, test/e2e/client-faults.test.ts). `blocked` is
 * a promise to wait on while it lasts (it ends on 'unblocked', or when the
 * channel closes). The state is the connection's: a publisher opened on a
 * blocked connection starts blocked (the broker does not say it again), and a
 * channel that closes wakes its waiters without saying the alarm lifted.
 */
export class Alarm {
  blocked: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    model: ChannelModel,
    channel: ConfirmChannel,
    private readonly onBlocked?: (reason: string | null) => void,
  ) {
    const alarm = connectionAlarm(model);
    const listener = (reason: string | null) => (reason === null ? this.lift(true) : this.block(reason));
    alarm.listeners.add(listener);
    if (alarm.reason !== null) this.block(alarm.reason);
    channel.on("close", () => {
      alarm.listeners.delete(listener);
      this.lift(false); // the channel is gone, not the alarm: its next publish throws
    });
  }

  private block(reason: string): void {
    if (this.blocked !== undefined) return;
    this.onBlocked?.(reason);
    this.blocked = new Promise<void>((resolve) => (this.wake = resolve));
  }

  private lift(tell: boolean): void {
    if (!this.blocked) return;
    const wake = this.wake;
    this.blocked = undefined;
    this.wake = undefined;
    if (tell) this.onBlocked?.(null);
    wake?.();
  }
}
