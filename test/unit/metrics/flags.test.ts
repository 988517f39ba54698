import { describe, expect, test } from "bun:test";
import { planWork } from "../../../src/commands/work-plan.ts";
import { expectUsageError } from "../usage-error.ts";

type WorkFlags = Parameters<typeof planWork>[1];
const base: WorkFlags = {
  url: "amqp://u:p@broker.test:5672/v",
  connectTimeout: 5000,
  queue: "task_queue",
  concurrency: 1,
  dotMs: 0,
  maxAttempts: 5,
  maxDeferrals: 20,
  retryDelay: 1000,
  retryMaxDelay: 300_000,
  killAfter: 5000,
  queueType: "classic",
  reconnectTimeout: 300_000,
};

describe("planWork --metrics-port / --metrics-host", () => {
  test.each<[string, Partial<WorkFlags>, { host: string; port: number } | undefined]>([
    ["off by default", {}, undefined],
    ["port alone listens on loopback", { metricsPort: 9464 }, { host: "127.0.0.1", port: 9464 }],
    ["port and host", { metricsPort: 9464, metricsHost: "0.0.0.0" }, { host: "0.0.0.0", port: 9464 }],
    ["an IPv6 host", { metricsPort: 1, metricsHost: "::1" }, { host: "::1", port: 1 }],
  ])("%s", (_name, flags, metrics) => {
    expect(planWork([], { ...base, ...flags }, false).metrics).toEqual(metrics);
  });

  test.each<[string, Partial<WorkFlags>, string]>([
    ["host without port", { metricsHost: "0.0.0.0" }, "--metrics-host needs --metrics-port"],
    ["empty host", { metricsPort: 9464, metricsHost: " " }, "--metrics-host must not be empty"],
  ])("rejects %s", (_name, flags, message) => {
    expect(expectUsageError(() => planWork([], { ...base, ...flags }, false)).message).toBe(message);
  });
});
