import type { LevelStatus } from "../core/admin/queue-status.ts";
import { workersJson } from "./workers-view.ts";
import { type Sample, oldestAgeMs, retrying } from "./status-view.ts";

const level = (l: LevelStatus) => ({
  queue: l.queue,
  delayMs: l.levelMs,
  ready: l.ready,
  consumers: l.consumers,
  unacked: l.unacked ?? null,
});
const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The JSON object for one sample (docs/commands.md, "taskq status --json"). `readyPerSecond`
 * is null unless watching, and on the first sample of a watch. Keys after `dead` came later:
 * `unacked` and `rates` are null without the management API (`source: "amqp"`, `missing` says why).
 */
export function statusJson(sample: Sample, rate?: number): Record<string, unknown> {
  const { status } = sample;
  const time = new Date(sample.at).toISOString();
  const workers = sample.workers === undefined ? {} : { workers: workersJson(sample.workers, sample.at) };
  if (!status.exists)
    return {
      time,
      queue: status.queue,
      exists: false,
      source: status.source,
      missing: status.missing ?? null,
      ...workers,
    };
  const { dead } = status;
  const oldest = dead.oldest;
  return {
    time,
    queue: status.queue,
    exists: true,
    ready: status.ready,
    consumers: status.consumers,
    readyPerSecond: rate === undefined ? null : round(rate),
    retrying: retrying(status),
    retry: status.retries.map(level),
    dead: {
      queue: dead.queue,
      exists: dead.exists,
      ready: dead.ready,
      consumers: dead.consumers,
      oldest:
        oldest === undefined
          ? null
          : {
              id: oldest.messageId ?? null,
              failedAt: oldest.failedAt ?? null,
              ageMs: oldestAgeMs(dead, sample.at) ?? null,
              reason: oldest.reason ?? null,
            },
      reasons: dead.reasons.map((r) => ({ reason: r.reason ?? null, count: r.count })),
      sampled: dead.sampled,
      // Only when the sample was skipped (a look would have moved more than REASON_SAMPLE tasks).
      ...(dead.unsampled === undefined ? {} : { unsampled: dead.unsampled }),
    },
    unacked: status.unacked ?? null,
    rates:
      status.rates === undefined
        ? null
        : { publish: round(status.rates.publish), deliver: round(status.rates.deliver), ack: round(status.rates.ack) },
    delay: status.delays.map(level),
    source: status.source,
    missing: status.missing ?? null,
    ...workers,
  };
}

/** A sample that could not be taken while watching (the connection dropped): the watch goes on. */
export const errorJson = (at: number, queue: string, error: string): Record<string, unknown> => ({
  time: new Date(at).toISOString(),
  queue,
  error,
});
