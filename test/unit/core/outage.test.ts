import { describe, expect, test } from "bun:test";
import { CONNECT_BACKOFF } from "../../../src/core/backoff.ts";
import { Outage, YOUNG_SESSION_MS } from "../../../src/core/outage.ts";

function outageAt(start: number) {
  let t = start;
  const outage = new Outage(() => t);
  return { outage, at: (ms: number) => (t = ms) };
}

describe("Outage: one reconnect budget per stretch without a working session", () => {
  test("the first loss starts it; no pause before the first try", () => {
    const { outage } = outageAt(1000);
    outage.lost();
    expect(outage.since).toBe(1000);
    expect(outage.pauseMs(0)).toBe(0);
  });

  test("a session that dies young is the same outage, and the tries back off", () => {
    const { outage, at } = outageAt(1000);
    outage.lost();
    at(1200);
    outage.settingUp();
    at(1200 + YOUNG_SESSION_MS - 1);
    outage.lost();
    expect(outage.since).toBe(1000);
    // backoffDelay(1): about CONNECT_BACKOFF.initialMs, less up to its jitter.
    expect(outage.pauseMs(0)).toBeGreaterThanOrEqual(CONNECT_BACKOFF.initialMs * (1 - CONNECT_BACKOFF.jitter));
    expect(outage.pauseMs(0)).toBeLessThanOrEqual(CONNECT_BACKOFF.initialMs);
  });

  test("a session that lived longer than YOUNG_SESSION_MS: the next loss is a new outage", () => {
    const { outage, at } = outageAt(1000);
    outage.lost();
    at(2000);
    outage.settingUp();
    at(2000 + YOUNG_SESSION_MS);
    outage.lost();
    expect(outage.since).toBe(2000 + YOUNG_SESSION_MS);
    expect(outage.pauseMs(0)).toBe(0);
  });

  test("failed setups within one round pause too", () => {
    const { outage } = outageAt(0);
    outage.lost();
    expect(outage.pauseMs(1)).toBeGreaterThan(0);
  });
});
