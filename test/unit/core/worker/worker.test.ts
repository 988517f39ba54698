import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import type { Copy } from "../../../../src/core/failures/copy-table.ts";
import { Stopped } from "../../../../src/core/broker/reconnector.ts";
import type { Deliver, WorkSession } from "../../../../src/core/worker/session.ts";
import type { SessionSource } from "../../../../src/core/worker/session-source.ts";
import type { Handler, Outcome } from "../../../../src/core/task.ts";
import { Worker } from "../../../../src/core/worker/worker.ts";
import { TRANSITIONS, type WorkerEvent, type WorkerOptions } from "../../../../src/core/worker/worker-state.ts";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 5));

/** A session that records what the worker does with it; the test delivers and loses it. */
class FakeSession implements WorkSession {
  open = true;
  readonly pending: ConsumeMessage[] = [];
  readonly acked: number[] = [];
  readonly requeued: number[] = [];
  cancelled = false;
  closed = false;
  private readonly gone = deferred<Error>();
  readonly lost = this.gone.promise;
  private tag = 0;
  constructor(private readonly deliverTo: Deliver) {}
  deliver(body = "t"): number {
    const tag = ++this.tag;
    this.deliverTo(this, {
      content: Buffer.from(body),
      fields: { deliveryTag: tag, redelivered: false },
      properties: { headers: {}, messageId: `m${tag}` },
    } as unknown as ConsumeMessage);
    return tag;
  }
  lose(): void {
    this.open = false;
    this.gone.resolve(new Error("connection lost"));
  }
  ack(msg: ConsumeMessage) {
    this.acked.push(msg.fields.deliveryTag);
  }
  readonly prefetches: number[] = [];
  setPrefetch(count: number) {
    this.prefetches.push(count);
  }
  requeue(msg: ConsumeMessage) {
    this.requeued.push(msg.fields.deliveryTag);
  }
  async cancel() {
    this.cancelled = true;
  }
  async close() {
    this.closed = true;
    this.open = false;
  }
  redact(text: string) {
    return text;
  }
}

/**
 * Sessions handed out when the test says so. A pending one rejects with Stopped on abort, as
 * brokerSessions does; with `openGoesOn`, an open already under way completes anyway (a consume-ok
 * in the same turn as the stop), which the worker must survive too.
 */
class FakeSource implements SessionSource {
  readonly sessions: FakeSession[] = [];
  private waiting: { give: (s: FakeSession) => void } | undefined;
  openCalls = 0;
  openGoesOn = false;
  private wait(deliver: Deliver, signal: AbortSignal): Promise<WorkSession> {
    this.openCalls++;
    return new Promise((resolve, reject) => {
      signal.addEventListener("abort", () => this.openGoesOn || reject(new Stopped()), { once: true });
      this.waiting = {
        give: (s) => {
          this.sessions.push(s);
          resolve(s);
        },
      };
      void deliver;
    });
  }
  first = (deliver: Deliver, signal: AbortSignal) => this.wait(deliver, signal).then((s) => s);
  next = (_lost: WorkSession, deliver: Deliver, signal: AbortSignal) => this.wait(deliver, signal);
  /** Hands out the session being waited for; the worker's deliver callback is captured through it. */
  give(deliver: Deliver): FakeSession {
    const s = new FakeSession(deliver);
    this.waiting?.give(s);
    return s;
  }
}

/** A worker on fakes: the handler's outcome per task is decided by the test. */
function rig(
  options: Partial<WorkerOptions> = {},
  copy: (c: Copy) => Promise<void> = async () => {},
  handler?: Handler,
) {
  const source = new FakeSource();
  let deliver!: Deliver;
  const first = source.first;
  source.first = (d, signal) => {
    deliver = d;
    return first(d, signal);
  };
  const next = source.next;
  source.next = (lost, d, signal) => {
    deliver = d;
    return next(lost, d, signal);
  };
  const copies: Copy[] = [];
  let copierClosed = false;
  const copier = {
    publish: (c: Copy) => {
      copies.push(c);
      return copy(c);
    },
    close: async () => {
      copierClosed = true;
    },
  };
  const tasks: Array<ReturnType<typeof deferred<Outcome>>> = [];
  const events: WorkerEvent[] = [];
  const worker = new Worker(
    source,
    copier,
    { queue: "q", prefetch: 1, concurrency: 1, ...options, onEvent: (e) => events.push(e) },
    handler ??
      ((_task, signal) => {
        const d = deferred<Outcome>();
        signal.addEventListener("abort", () => d.resolve({ ok: false, reason: "killed", signal: "SIGKILL" }));
        tasks.push(d);
        return d.promise;
      }),
  );
  worker.started.catch(() => {});
  return {
    worker,
    source,
    copies,
    tasks,
    events,
    give: () => source.give(deliver),
    copierClosed: () => copierClosed,
    states: () => events.flatMap((e) => (e.type === "state" ? [e.to] : [])),
  };
}

describe("worker lifecycle", () => {
  test("every transition in the table leads somewhere allowed; stopped and failed are final", () => {
    expect(TRANSITIONS.stopped).toEqual([]);
    expect(TRANSITIONS.failed).toEqual([]);
    for (const targets of Object.values(TRANSITIONS))
      for (const t of targets) expect(Object.keys(TRANSITIONS)).toContain(t);
  });

  test("stop while connecting: the connect is abandoned at once and the worker stops", async () => {
    const r = rig();
    expect(r.worker.state).toBe("connecting");
    r.worker.stop("signal");
    const summary = await r.worker.done;
    expect(summary.reason).toBe("signal");
    expect(r.states()).toEqual(["draining", "stopped"]);
    expect(r.copierClosed()).toBe(true);
  });

  test("a task runs, is acked, and a stop drains then closes the session", async () => {
    const r = rig();
    const s = r.give();
    await r.worker.started;
    expect(r.worker.state).toBe("consuming");
    const tag = s.deliver();
    r.tasks[0]?.resolve({ ok: true });
    await tick();
    expect(s.acked).toEqual([tag]);
    r.worker.stop("signal");
    const summary = await r.worker.done;
    expect(summary.done).toBe(1);
    expect(s.cancelled).toBe(true);
    expect(s.closed).toBe(true);
    expect(r.states()).toEqual(["consuming", "draining", "stopped"]);
  });

  test("a handler that throws before it returns a promise fails its task (a retry copy), not the worker; a stop still drains", async () => {
    const r = rig(
      {},
      async () => {},
      () => {
        throw new Error("boom");
      },
    );
    const s = r.give();
    await r.worker.started;
    const tag = s.deliver();
    await tick();
    expect(r.copies).toHaveLength(1);
    expect(r.copies[0]?.queue).toMatch(/^q\.retry\./);
    expect(s.acked).toEqual([tag]);
    r.worker.stop("signal");
    const summary = await r.worker.done;
    expect(summary.retried).toBe(1);
    expect(r.states()).toEqual(["consuming", "draining", "stopped"]);
  });

  test("stop during an outage ends it at once: no reconnect goes on", async () => {
    const r = rig();
    const s = r.give();
    await r.worker.started;
    s.lose();
    await tick();
    expect(r.worker.state).toBe("reconnecting");
    r.worker.stop("signal");
    await r.worker.done;
    expect(r.states()).toEqual(["consuming", "reconnecting", "draining", "stopped"]);
    expect(r.source.openCalls).toBe(2); // the first, and the one the stop abandoned
  });

  test("lost while reconnecting: a running task finishes, is not acked on the new session, and counts as lost", async () => {
    const r = rig();
    const s1 = r.give();
    await r.worker.started;
    s1.deliver();
    s1.lose();
    await tick();
    const s2 = r.give();
    await tick();
    expect(r.worker.state).toBe("consuming");
    r.tasks[0]?.resolve({ ok: true });
    await tick();
    expect(s1.acked).toEqual([]);
    expect(s2.acked).toEqual([]);
    r.worker.stop("signal");
    const summary = await r.worker.done;
    expect(summary).toMatchObject({ done: 0, lost: 1, reconnects: 1 });
  });

  test("a task that ran across a reconnect frees its slot for the new session's task (the redelivery starts)", async () => {
    const r = rig();
    const s1 = r.give();
    await r.worker.started;
    s1.deliver();
    s1.lose();
    await tick();
    const s2 = r.give();
    await tick();
    const tag = s2.deliver(); // waits: the only slot is taken by the task of the lost session
    expect(r.tasks).toHaveLength(1);
    r.tasks[0]?.resolve({ ok: true });
    await tick();
    expect(r.tasks).toHaveLength(2);
    r.tasks[1]?.resolve({ ok: true });
    await tick();
    expect(s2.acked).toEqual([tag]);
    r.worker.stop("signal");
    expect(await r.worker.done).toMatchObject({ done: 1, lost: 1 });
  });

  test("connection lost while draining: the running task's result is lost (the broker redelivers), then stopped", async () => {
    const r = rig();
    const s = r.give();
    await r.worker.started;
    s.deliver();
    r.worker.stop("signal");
    await tick();
    expect(r.worker.state).toBe("draining");
    s.lose();
    await tick();
    expect(r.worker.state).toBe("draining"); // waits for the task, no reconnect
    r.tasks[0]?.resolve({ ok: true });
    const summary = await r.worker.done;
    expect(summary.lost).toBe(1);
    expect(s.acked).toEqual([]);
    expect(r.source.openCalls).toBe(1);
  });

  test("a second signal kills the running handler; its task is left for the broker, not retried or dead-lettered", async () => {
    const r = rig();
    const s = r.give();
    await r.worker.started;
    s.deliver();
    r.worker.stop("signal");
    r.worker.abort();
    const summary = await r.worker.done;
    expect(summary.lost).toBe(1);
    expect(r.copies).toEqual([]);
    expect(s.acked).toEqual([]);
  });

  test("--max-tasks reached while hand-backs are in flight: the worker waits for them, then acks the originals", async () => {
    const gate = deferred<void>();
    const r = rig({ maxTasks: 1, prefetch: 3, concurrency: 1 }, (c) =>
      c.kind === "handBack" ? gate.promise : Promise.resolve(),
    );
    const s = r.give();
    await r.worker.started;
    s.deliver(); // runs; reaching max-tasks stops the worker
    const t2 = s.deliver();
    const t3 = s.deliver();
    await tick();
    expect(r.worker.state).toBe("draining");
    r.tasks[0]?.resolve({ ok: true });
    await tick();
    expect(r.worker.state).toBe("draining"); // hand-backs not confirmed yet
    gate.resolve();
    const summary = await r.worker.done;
    expect(summary).toMatchObject({ reason: "max-tasks", done: 1, requeued: 2 });
    expect(r.copies.filter((c) => c.kind === "handBack").map((c) => c.properties.messageId)).toEqual([
      `m${t2}`,
      `m${t3}`,
    ]);
    expect(s.acked).toEqual([1, t2, t3]);
  });

  test("a copy failing while stopping: tried again with backoff, said once; a second signal gives it back", async () => {
    const r = rig({}, async () => {
      throw new Error("403 ACCESS_REFUSED");
    });
    const s = r.give();
    await r.worker.started;
    const tag = s.deliver();
    r.tasks[0]?.resolve({ ok: false, reason: "exit 1", exitCode: 1 });
    await tick();
    r.worker.stop("signal");
    await tick();
    expect(r.worker.state).toBe("draining"); // still trying the copy
    expect(r.events.filter((e) => e.type === "copy-failed")).toHaveLength(1);
    r.worker.abort();
    const summary = await r.worker.done;
    expect(s.requeued).toEqual([tag]);
    expect(summary.requeued).toBe(1);
    expect(r.tasks).toHaveLength(1); // the command ran once
  });

  test("a refused copy keeps its outcome: once the broker takes it, the task is retried, not run again", async () => {
    let fails = 1;
    const r = rig({}, async () => {
      if (fails-- > 0) throw new Error("NOT_FOUND");
    });
    const s = r.give();
    await r.worker.started;
    const tag = s.deliver();
    r.tasks[0]?.resolve({ ok: false, reason: "exit 1", exitCode: 1 });
    await new Promise((res) => setTimeout(res, 1200)); // COPY_BACKOFF's first wait is 0.5-1 s
    expect(s.acked).toEqual([tag]);
    expect(r.copies.map((c) => c.kind)).toEqual(["retry", "retry"]);
    expect(r.tasks).toHaveLength(1);
    r.worker.stop("signal");
    expect((await r.worker.done).retried).toBe(1);
  });

  /** An auto worker on its first session that has done five instant tasks, one at a time. */
  async function afterShortTasks() {
    const r = rig({ prefetch: "auto", concurrency: 1 });
    const s = r.give();
    await r.worker.started;
    for (let i = 0; i < 5; i++) {
      s.deliver();
      r.tasks[i]?.resolve({ ok: true });
      await tick();
    }
    return { r, s };
  }

  test("--prefetch auto: short tasks make the worker hold one in reserve (the session's prefetch raised once)", async () => {
    const { r, s } = await afterShortTasks();
    expect(s.prefetches).toEqual([2]);
    expect(r.events.filter((e) => e.type === "prefetch")).toHaveLength(1);
    r.worker.stop("signal");
    expect((await r.worker.done).done).toBe(5);
  });

  test("--prefetch auto: a session opened after a reconnect is given the reserve the worker had decided on", async () => {
    const { r, s: s1 } = await afterShortTasks();
    expect(s1.prefetches).toEqual([2]);
    s1.lose();
    await tick();
    const s2 = r.give();
    await tick();
    expect(s2.prefetches).toEqual([2]); // a new session starts without it (its channel-wide limit is concurrency)
    r.worker.stop("signal");
    expect((await r.worker.done).done).toBe(5);
  });

  test("--prefetch auto: a change decided as a task ends goes to the session consuming now, not the lost one that delivered it", async () => {
    const r = rig({ prefetch: "auto" });
    const s1 = r.give();
    await tick();
    s1.deliver();
    await tick();
    s1.lose(); // the task runs on; its session is gone
    await tick();
    const s2 = r.give();
    await tick();
    r.tasks[0]?.resolve({ ok: true }); // short: auto decides to hold one in reserve
    await tick();
    expect(s1.prefetches).toEqual([]);
    expect(s2.prefetches).toEqual([2]);
    r.worker.stop("signal");
    await r.worker.done;
  });

  test.each([
    ["the first session", false],
    ["a session after a reconnect", true],
  ])(
    "stop while %s is being opened, and the open completes anyway: that session is closed, done resolves, started does not reject",
    async (_name, reconnect) => {
      const r = rig();
      r.source.openGoesOn = true;
      if (reconnect) {
        r.give().lose();
        await tick();
        expect(r.worker.state).toBe("reconnecting");
      }
      r.worker.stop("signal");
      await r.worker.done;
      const late = r.give(); // consume-ok arrives after the stop
      await tick();
      expect(late.closed).toBe(true); // else its consumer would hold tasks unacked for ever
      expect(r.worker.state).toBe("stopped");
      expect(
        await r.worker.started.then(
          () => "resolved",
          (e: Error) => e.message,
        ),
      ).toBe("resolved");
    },
  );

  test("an onEvent listener that throws on 'start': the slot is freed and the worker ends (done rejects with why), not hung", async () => {
    const source = new FakeSource();
    let deliver!: Deliver;
    const first = source.first;
    source.first = (d, signal) => {
      deliver = d;
      return first(d, signal);
    };
    const onEvent = (e: WorkerEvent) => {
      if (e.type === "start") throw new Error("listener bug");
    };
    const w = new Worker(
      source,
      { publish: async () => {}, close: async () => {} },
      { queue: "q", prefetch: 1, concurrency: 1, onEvent },
      async () => ({ ok: true }),
    );
    const s = source.give(deliver);
    await tick();
    s.deliver();
    w.stop("signal");
    const ended = await Promise.race([
      w.done.then(
        () => "stopped",
        (e: Error) => e.message,
      ),
      new Promise((r) => setTimeout(r, 2000, "hung")),
    ]);
    expect(ended).toBe("an onEvent listener threw on 'start': listener bug");
    expect(s.closed).toBe(true);
  });

  test("a session that cannot be opened at all fails the worker and closes the copier", async () => {
    const source: SessionSource = {
      first: async () => Promise.reject(new Error("406 PRECONDITION_FAILED")),
      next: async () => Promise.reject(new Error("x")),
    };
    let closed = false;
    const w = new Worker(
      source,
      {
        publish: async () => {},
        close: async () => {
          closed = true;
        },
      },
      { queue: "q", prefetch: 1, concurrency: 1 },
      async () => ({ ok: true }),
    );
    await expect(w.started).rejects.toThrow("406");
    await expect(w.done).rejects.toThrow("406");
    expect(w.state).toBe("failed");
    expect(closed).toBe(true);
  });
});
