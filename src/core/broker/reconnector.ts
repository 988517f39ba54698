import { sleep } from "../../util/clock.ts";
import { backoffDelay } from "../../util/backoff.ts";
import { CONNECT_BACKOFF, ConnectError, isLost } from "./connect-error.ts";
import { type Bound, type Broker, type BrokerTarget, dial, whileUp } from "./connection.ts";
import { DIAL_TIMEOUT_MS, youngWithinMs } from "./liveness.ts";
import { parseBrokerUrl } from "./url.ts";

export interface Attempt {
  /** host:port tried (never the password). */
  address: string;
  attempt: number;
  error: ConnectError;
  /** Wait before the next try. */
  delayMs: number;
}

export interface ReconnectorOptions {
  /** How long one outage may last, across every address, before `connect` gives up (exit 3). */
  timeoutMs: number;
  /** Shown in the management UI's connection list. */
  name?: string;
  /** Told of each failed attempt, before its wait. */
  onAttempt?: (attempt: Attempt) => void;
  /**
   * Where the next connect starts, shared by the Reconnectors of one worker: an address one found failed, the others
   * skip too.
   */
  cursor?: { next: number };
  /** For tests: the clock, the wait, the dice and the dialler. */
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  dial?: (url: string, timeoutMs: number) => Promise<Broker>;
}

/** The error a stopped outage ends with (`connect` was aborted). */
export class Stopped extends Error {
  constructor() {
    super("stopped while connecting");
  }
}

/**
 * The one place that finds a broker, for every connection taskq opens: it owns the outage (when
 * it began, how many connections died young in it), the jittered backoff, the deadline, the
 * AbortSignal and the choice of the next address: the list given, in order, then round robin.
 *
 * The invariant: an address that failed is not dialled again before the others had their turn.
 * Failed: refused, unreachable, silent (it answered the handshake, then not a channel open within
 * ANSWER_TIMEOUT_MS: `dial`), or lost (closed, two heartbeats missed, an answer past its bound:
 * `whileUp`). So whoever connects again keeps its Reconnector (`connect()` anew starts at the
 * first address), told of each loss. Each address gets one whole attempt per outage before the
 * deadline counts: a silent one cannot use up the time the next one needs.
 */
export class Reconnector {
  private since: number | undefined;
  private lastLoss: Error | undefined;
  private readonly youngMs: number;
  private youngDeaths = 0;
  private tried = 0; // attempts in the outage under way: until every address had one, the deadline waits
  private handedOutAt = Number.NEGATIVE_INFINITY;
  private readonly at: { next: number };
  private readonly clock: () => number;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly dial: (url: string, timeoutMs: number) => Promise<Broker>;

  constructor(
    private readonly target: BrokerTarget,
    private readonly options: ReconnectorOptions,
  ) {
    if (target.urls.length === 0) throw new Error("Reconnector: no broker URL");
    this.clock = options.clock ?? Date.now;
    this.youngMs = youngWithinMs(target.heartbeatS);
    this.wait = options.sleep ?? sleep;
    this.at = options.cursor ?? { next: 0 };
    this.dial =
      options.dial ??
      ((url, timeoutMs) =>
        dial(url, {
          timeoutMs,
          ...(target.tls ? { tls: target.tls } : {}),
          ...(options.name ? { name: options.name } : {}),
          ...(target.heartbeatS !== undefined ? { heartbeatS: target.heartbeatS } : {}),
        }));
  }

  /**
   * `broker` was lost: a new outage, or more of the same one if it died young. The next connect
   * starts with the address after the lost one (in a cluster, another node serves the queue).
   */
  lost(broker?: Broker, why?: Error): void {
    if (broker) this.skip(broker);
    if (why) this.lastLoss = why;
    const now = this.clock();
    if (this.since !== undefined && now - this.handedOutAt < this.youngMs) this.youngDeaths++;
    else [this.since, this.youngDeaths, this.tried] = [now, 0, 0];
  }

  /**
   * Whatever outage there was is over: the connection in use did real work (a confirm, a task done), or its caller gave
   * it up.
   */
  recovered(): void {
    [this.since, this.youngDeaths, this.tried] = [undefined, 0, 0];
  }

  /** Whether the outage under way has lasted longer than the timeout. */
  expired(): boolean {
    return this.since !== undefined && this.clock() - this.since > this.options.timeoutMs;
  }

  /**
   * `broker` is gone (see liveness.ts): closed, counted against the outage, and a connection to
   * the next address that answers returned. `worked`: it did real work before it went (a confirm,
   * a task done), so whatever outage came before it is over.
   */
  async replace(
    broker: Broker,
    options: { worked?: boolean; signal?: AbortSignal; why?: Error } = {},
  ): Promise<Broker> {
    await broker.close();
    if (options.worked) this.recovered();
    this.lost(broker, options.why);
    return this.connect(options.signal);
  }

  /**
   * `step` on a live connection (`first`, else a new one), again on the next connection each
   * time the connection is gone (isLost), until the outage's deadline; any other error is the
   * answer. A connection it opened is closed before it returns; `first` is the caller's.
   */
  async run<T>(
    step: (broker: Broker) => Promise<T>,
    options: { first?: Broker; signal?: AbortSignal; bound?: Bound; onLost?: (err: Error) => void } = {},
  ): Promise<T> {
    let broker = options.first ?? (await this.connect(options.signal));
    try {
      for (;;) {
        try {
          const result = await whileUp(broker, step(broker), options.bound);
          this.recovered();
          return result;
        } catch (err) {
          if (!isLost(err)) throw err;
          options.onLost?.(err as Error);
          broker = await this.replace(broker, {
            why: err as Error,
            ...(options.signal ? { signal: options.signal } : {}),
          });
        }
      }
    } finally {
      if (broker !== options.first) await broker.close();
    }
  }

  /**
   * A connection to the next address that answers. Retryable failures move on to the next
   * address after a jittered backoff; a refused login fails at once; past the outage's deadline
   * the last failure is thrown. An abort ends the outage at once with `Stopped`.
   */
  async connect(signal?: AbortSignal): Promise<Broker> {
    this.since ??= this.clock();
    const urls = this.target.urls;
    // Connections that open and are lost again (young) never fail a dial: the deadline is checked here
    // too, once every address had its attempt (one lost while its session opened had its attempt).
    if (this.youngDeaths > 0 && this.expired() && this.tried >= urls.length) throw this.gaveUpOnLosses();
    const deadline = this.since + this.options.timeoutMs;
    // Connections that died young (a broker in a crash loop, a proxy cutting every one): no hot loop.
    if (this.youngDeaths > 0)
      await this.wait(backoffDelay(this.youngDeaths, CONNECT_BACKOFF, this.options.random), signal);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new Stopped();
      const url = urls[this.at.next % urls.length] as string;
      this.tried++;
      try {
        const firstRound = attempt <= urls.length; // one whole attempt each before the deadline counts
        const broker = await this.dial(
          url,
          Math.max(1000, Math.min(DIAL_TIMEOUT_MS, firstRound ? this.options.timeoutMs : deadline - this.clock())),
        );
        if (signal?.aborted) {
          await broker.close();
          throw new Stopped();
        }
        this.handedOutAt = this.clock();
        return broker;
      } catch (err) {
        if (!(err instanceof ConnectError) || !err.retryable) throw err;
        this.at.next = (this.at.next + 1) % urls.length;
        // Every address had its turn and the deadline has come: give up. A backoff that would pass the
        // deadline is cut short, so the last try is made at the deadline, not a backoff before it.
        if (attempt >= urls.length && this.clock() >= deadline) throw this.gaveUp(err);
        const delayMs = Math.min(
          backoffDelay(attempt + this.youngDeaths, CONNECT_BACKOFF, this.options.random),
          Math.max(0, deadline - this.clock()),
        );
        const { host, port } = parseBrokerUrl(url);
        this.options.onAttempt?.({ address: `${host}:${port}`, attempt, error: err, delayMs });
        await this.wait(delayMs, signal);
      }
    }
  }

  private skip(broker: Broker): void {
    const i = this.target.urls.indexOf(broker.address.url);
    if (i >= 0) this.at.next = (i + 1) % this.target.urls.length;
  }

  private gaveUpOnLosses(lastLoss = this.lastLoss): ConnectError {
    const last = lastLoss ? `; last: ${lastLoss.message}` : "";
    return new ConnectError(
      `gave up after ${this.options.timeoutMs / 1000}s: every connection was lost again as soon as it was made${last}`,
      "LOST",
    );
  }

  private gaveUp(last: ConnectError): ConnectError {
    // One address that answers the handshake and then nothing (dial's LOST): its connections were lost as soon as made.
    if (this.target.urls.length === 1) return isLost(last) ? this.gaveUpOnLosses(last) : last;
    const all = this.target.urls.map(parseBrokerUrl).map(({ host, port }) => `${host}:${port}`);
    return new ConnectError(
      `no broker answered within ${this.options.timeoutMs / 1000}s (tried ${all.join(", ")}); last: ${last.message}`,
      last.kind,
    );
  }
}

/**
 * One connection (a command's): the addresses in order, retried until `target.connectTimeoutMs`. Again after a loss:
 * keep a Reconnector.
 */
export function connect(
  target: BrokerTarget,
  options: Omit<ReconnectorOptions, "timeoutMs"> & { signal?: AbortSignal } = {},
): Promise<Broker> {
  return new Reconnector(target, { ...options, timeoutMs: target.connectTimeoutMs }).connect(options.signal);
}
