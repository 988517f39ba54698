import { describe, expect, test } from "bun:test";
import { FaultInjector, type FaultTargets } from "../../../src/bench/injector.ts";
import { seededRandom } from "../../../src/bench/workload.ts";

/** Worker slots that can be killed and replaced, counting what happened. */
function fakeWorkers(size: number, startMs = 5) {
  const consuming = new Set(Array.from({ length: size }, (_, i) => i));
  const killed: number[] = [];
  const targets: FaultTargets = {
    consumingSlots: () => [...consuming].sort(),
    replaceWorker: async (slot) => {
      killed.push(slot);
      consuming.delete(slot);
      await Bun.sleep(startMs);
      consuming.add(slot);
    },
  };
  return { targets, killed, consuming };
}

/**
 * Nodes as scripts/cluster drives them: a kill returns once the node is gone, a start once it
 * booted (`startMs`); a freeze returns at once (SIGSTOP), and fails on a node that is not running;
 * a thaw returns once the node answers again (`thawMs`), and does nothing to one not frozen.
 * Records how many were not answering at once.
 */
function fakeNodes(
  count: number,
  options: { startMs?: number; thawMs?: number; failKill?: boolean; failStart?: boolean } = {},
) {
  const down = new Set<number>();
  const frozen = new Set<number>();
  const log: string[] = [];
  let mostDown = 0;
  const gone = (n: number) => {
    down.add(n);
    mostDown = Math.max(mostDown, down.size);
  };
  const nodes = {
    nodes: count,
    kill: async (n: number) => {
      log.push(`kill ${n}`);
      if (options.failKill) throw new Error(`cannot kill ${n}`);
      gone(n);
    },
    start: async (n: number) => {
      log.push(`start ${n}`);
      await Bun.sleep(options.startMs ?? 5);
      if (options.failStart) throw new Error(`cannot start ${n}`);
      down.delete(n);
      log.push(`up ${n}`);
    },
    freeze: async (n: number) => {
      log.push(`freeze ${n}`);
      if (down.has(n)) throw new Error(`node ${n} is not running`);
      frozen.add(n);
      gone(n);
    },
    thaw: async (n: number) => {
      log.push(`thaw ${n}`);
      if (!frozen.has(n)) return;
      frozen.delete(n);
      await Bun.sleep(options.thawMs ?? 5);
      down.delete(n);
      log.push(`up ${n}`);
    },
  };
  return { nodes, down, frozen, log, mostDown: () => mostDown };
}

/** Polls `check` every few ms for up to `ms` (timers run late on a busy machine). */
async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(2);
  }
}

describe("FaultInjector", () => {
  test("kill-worker: kills a consuming worker every interval, each in its slot (from 1)", async () => {
    const w = fakeWorkers(3);
    const injector = new FaultInjector([{ kind: "kill-worker", everyMs: 20 }], w.targets, seededRandom(1));
    await until(() => injector.faults.length >= 3);
    await injector.stop();
    expect(injector.failure).toBeUndefined();
    expect(injector.faults.length).toBeGreaterThanOrEqual(3);
    expect(injector.faults.map((f) => f.target)).toEqual(w.killed.map((slot) => slot + 1));
    for (const f of injector.faults) expect(f.kind).toBe("worker");
    // The next kill waited for the last one's new worker; the last may still be starting at the stop.
    for (const [i, f] of injector.faults.slice(0, -1).entries()) {
      expect(f.back).toBeGreaterThanOrEqual(f.at);
      expect(injector.faults[i + 1]?.at).toBeGreaterThanOrEqual(f.back as number);
    }
  });

  test("kill-worker: stop does not wait for a new worker still starting", async () => {
    const w = fakeWorkers(2, 60_000);
    const injector = new FaultInjector([{ kind: "kill-worker", everyMs: 10 }], w.targets, seededRandom(1));
    await until(() => injector.faults.length === 1);
    const stopped = Date.now();
    await injector.stop();
    expect(Date.now() - stopped).toBeLessThan(1000);
    expect(injector.faults).toHaveLength(1);
    expect(injector.faults[0]?.back).toBeUndefined();
  });

  test("kill-worker: while no worker consumes, nothing is killed", async () => {
    const w = fakeWorkers(2);
    w.consuming.clear();
    const injector = new FaultInjector([{ kind: "kill-worker", everyMs: 10 }], w.targets, seededRandom(1));
    await Bun.sleep(60);
    await injector.stop();
    expect(injector.faults).toEqual([]);
  });

  test("kill-node: a node is started again before the next is killed, never two down at once; stop waits for the one booting", async () => {
    const n = fakeNodes(3, { startMs: 40 });
    const injector = new FaultInjector(
      [{ kind: "kill-node", everyMs: 10 }],
      { ...fakeWorkers(1).targets, nodes: n.nodes },
      seededRandom(7),
    );
    await until(() => injector.recovering);
    await until(() => injector.faults.length >= 2);
    await injector.stop();
    expect(n.down.size).toBe(0);
    expect(injector.recovering).toBe(false);
    expect(n.mostDown()).toBe(1);
    expect(injector.faults.length).toBeGreaterThanOrEqual(2);
    // kill N, start N, up N; then the next.
    for (let i = 0; i < n.log.length; i += 3)
      expect(n.log.slice(i, i + 3).map((l) => l.split(" ")[0])).toEqual(
        ["kill", "start", "up"].slice(0, n.log.length - i),
      );
    for (const f of injector.faults) {
      expect(f.kind).toBe("node");
      expect(f.target).toBeGreaterThanOrEqual(1);
      expect(f.target).toBeLessThanOrEqual(3);
      expect(f.back).toBeGreaterThanOrEqual(f.at + 30);
    }
    expect(injector.quietSince).toBe(injector.faults.at(-1)?.back as number);
  });

  test("kill-node: a failed kill still starts the node, then stops injecting with the error", async () => {
    const n = fakeNodes(2, { failKill: true });
    const injector = new FaultInjector(
      [{ kind: "kill-node", everyMs: 10 }],
      { ...fakeWorkers(1).targets, nodes: n.nodes },
      seededRandom(1),
    );
    await until(() => injector.failure !== undefined);
    await injector.stop();
    expect(injector.failure?.message).toMatch(/cannot kill/);
    expect(n.log.map((l) => l.split(" ")[0])).toEqual(["kill", "start", "up"]);
    expect(injector.faults).toEqual([]);
  });

  test("kill-node: a failed start is the injector's failure", async () => {
    const n = fakeNodes(2, { failStart: true });
    const injector = new FaultInjector(
      [{ kind: "kill-node", everyMs: 10 }],
      { ...fakeWorkers(1).targets, nodes: n.nodes },
      seededRandom(1),
    );
    await until(() => injector.failure !== undefined);
    await injector.stop();
    expect(injector.failure?.message).toMatch(/cannot start/);
    expect(injector.faults).toHaveLength(1);
    expect(injector.faults[0]?.back).toBeUndefined();
  });

  test("both at once, each on its own clock", async () => {
    const w = fakeWorkers(4);
    const n = fakeNodes(3, { startMs: 5 });
    const injector = new FaultInjector(
      [
        { kind: "kill-worker", everyMs: 15 },
        { kind: "kill-node", everyMs: 25 },
      ],
      { ...w.targets, nodes: n.nodes },
      seededRandom(3),
    );
    const count = (kind: string) => injector.faults.filter((f) => f.kind === kind).length;
    await until(() => count("worker") >= 3 && count("node") >= 2);
    await injector.stop();
    const kinds = injector.faults.map((f) => f.kind);
    expect(kinds.filter((k) => k === "worker").length).toBeGreaterThanOrEqual(3);
    expect(kinds.filter((k) => k === "node").length).toBeGreaterThanOrEqual(2);
    expect(n.mostDown()).toBe(1);
  });

  test("freeze-node: frozen for the hold, thawed, answering before the next freeze; recovering and frozenSince meanwhile", async () => {
    const n = fakeNodes(3, { thawMs: 30 });
    const injector = new FaultInjector(
      [{ kind: "freeze-node", everyMs: 10, holdMs: 50 }],
      { ...fakeWorkers(1).targets, nodes: n.nodes },
      seededRandom(5),
    );
    await until(() => n.frozen.size === 1);
    expect(injector.recovering).toBe(true);
    expect(injector.frozenSince).toBe(injector.faults[0]?.at as number);
    await until(() => injector.faults.length >= 3, 5000);
    await injector.stop();
    expect(injector.failure).toBeUndefined();
    expect(n.down.size).toBe(0);
    expect(n.frozen.size).toBe(0);
    expect(injector.recovering).toBe(false);
    expect(injector.frozenSince).toBeUndefined();
    expect(n.mostDown()).toBe(1);
    // freeze N, thaw N, up N; then the next.
    for (let i = 0; i < n.log.length; i += 3)
      expect(n.log.slice(i, i + 3).map((l) => l.split(" ")[0])).toEqual(
        ["freeze", "thaw", "up"].slice(0, n.log.length - i),
      );
    for (const [i, f] of injector.faults.entries()) {
      expect(f.kind).toBe("freeze");
      expect([1, 2, 3]).toContain(f.target);
      // The last one may have been cut short by the stop; the others were held, then answered again.
      if (i < injector.faults.length - 1) expect(f.back).toBeGreaterThanOrEqual(f.at + 50 + 30 - 2);
      expect(injector.faults[i + 1]?.at ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(f.back as number);
    }
    expect(injector.quietSince).toBe(injector.faults.at(-1)?.back as number);
  });

  test("freeze-node: stop cuts the hold short and thaws the node before it resolves", async () => {
    const n = fakeNodes(3, { thawMs: 20 });
    const injector = new FaultInjector(
      [{ kind: "freeze-node", everyMs: 10, holdMs: 60_000 }],
      { ...fakeWorkers(1).targets, nodes: n.nodes },
      seededRandom(2),
    );
    await until(() => n.frozen.size === 1);
    const stopped = Date.now();
    await injector.stop();
    expect(Date.now() - stopped).toBeLessThan(1000);
    expect(n.down.size).toBe(0);
    expect(n.log.map((l) => l.split(" ")[0])).toEqual(["freeze", "thaw", "up"]);
    expect(injector.faults).toHaveLength(1);
    expect(injector.faults[0]?.back).toBeGreaterThanOrEqual(injector.faults[0]?.at as number);
  });

  test("kill-node and freeze-node take turns: never two nodes down or frozen at once", async () => {
    const n = fakeNodes(3, { startMs: 15, thawMs: 15 });
    const injector = new FaultInjector(
      [
        { kind: "kill-node", everyMs: 10 },
        { kind: "freeze-node", everyMs: 10, holdMs: 20 },
      ],
      { ...fakeWorkers(1).targets, nodes: n.nodes },
      seededRandom(4),
    );
    const count = (kind: string) => injector.faults.filter((f) => f.kind === kind).length;
    await until(() => count("node") >= 2 && count("freeze") >= 2, 5000);
    await injector.stop();
    expect(injector.failure).toBeUndefined();
    expect(n.mostDown()).toBe(1);
    expect(n.down.size).toBe(0);
    const sorted = injector.faults.toSorted((a, b) => a.at - b.at);
    for (const [i, f] of sorted.slice(0, -1).entries())
      expect(sorted[i + 1]?.at).toBeGreaterThanOrEqual(f.back as number);
  });
});
