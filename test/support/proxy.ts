import type { Socket, TCPSocketListener } from "bun";
import { BROKER_PORT } from "./broker.ts";

/**
 * A TCP proxy in front of the broker, so a test can cut the network between
 * taskq and RabbitMQ without touching the broker itself: `drop()` closes every
 * open connection at once (a crash: both ends see it), `blackhole()` makes them
 * go silent (a link or switch that stops answering: neither end sees a thing,
 * only heartbeats can tell).
 */
export class DropProxy {
  private readonly pairs = new Set<Pair>();
  private listener: TCPSocketListener<Peer> | undefined;
  private heldChunks = 0;
  private shortWriteCount = 0;
  /** New connections are accepted and held silent (no connection to the target). */
  private silencingNew = false;

  constructor(
    private readonly targetPort = BROKER_PORT,
    private readonly targetHost = "127.0.0.1",
    /** Hold everything the broker sends this long: a slow network. */
    private readonly delayMs = 0,
  ) {}

  get port(): number {
    if (!this.listener) throw new Error("proxy not started");
    return this.listener.port;
  }

  /** Chunks from the broker still waiting out `delayMs` (0: everything it sent is on its way to the client). */
  get held(): number {
    return this.heldChunks;
  }

  /** Writes the kernel took only part of (the rest went out on 'drain'). */
  get shortWrites(): number {
    return this.shortWriteCount;
  }

  /** Connections held silent: cut by `blackhole()`, or accepted while it holds. */
  get silent(): number {
    let n = 0;
    for (const pair of this.pairs) if (pair.silent) n++;
    return n;
  }

  /** Whether new connections are held silent (between `blackhole()` and `restore()`). */
  get blackholed(): boolean {
    return this.silencingNew;
  }

  async start(): Promise<void> {
    const pairs = this.pairs;
    const { targetHost, targetPort, delayMs } = this;
    // A socket write may take only part of a chunk (Bun returns how many bytes it took):
    // the rest waits in `out` and goes on 'drain', before anything written later. What is
    // kept is copied: Bun may reuse a received chunk's memory once its callback returns.
    const send = (to: Socket<Peer> | undefined, chunk: Buffer) => {
      if (!to || to.data.closed || to.data.pair.silent) return;
      if (to.data.out.length > 0) return void to.data.out.push(Buffer.from(chunk));
      const n = to.write(chunk);
      if (n >= chunk.length) return;
      this.shortWriteCount++;
      to.data.out.push(Buffer.from(chunk.subarray(Math.max(n, 0))));
    };
    const flush = (s: Socket<Peer>) => {
      if (s.data.pair.silent) return;
      while (s.data.out.length > 0 && !s.data.closed) {
        const chunk = s.data.out[0] as Buffer;
        const n = s.write(chunk);
        if (n < chunk.length) {
          s.data.out[0] = chunk.subarray(Math.max(n, 0));
          return;
        }
        s.data.out.shift();
      }
      if (s.data.ending) s.end();
    };
    /** Ends `s` once what is queued for it is written (the peer closed its side). */
    const endAfterFlush = (s: Socket<Peer> | undefined) => {
      if (!s || s.data.closed || s.data.pair.silent) return;
      s.data.ending = true;
      if (s.data.out.length === 0) s.end();
    };
    const fromBroker = (client: Socket<Peer> | undefined, chunk: Buffer) => {
      if (delayMs === 0 || client?.data.pair.silent) return send(client, chunk);
      const copy = Buffer.from(chunk);
      this.heldChunks++;
      setTimeout(() => {
        this.heldChunks--;
        send(client, copy);
      }, delayMs);
    };
    const socketHandlers = {
      drain: flush,
      close(s: Socket<Peer>) {
        s.data.closed = true;
        s.data.out = [];
        const pair = s.data.pair;
        // A silent pair passes no close on either: it is forgotten only once both ends are gone,
        // so drop() and stop() still end the other.
        if (pair.silent) {
          if (pair.client.data.closed && (!pair.upstream || pair.upstream.data.closed)) pairs.delete(pair);
          return;
        }
        pairs.delete(pair);
        const other = s.data.other;
        // The broker's close reaches the client after what it sent before it, held or not.
        if (delayMs > 0 && s.data.pair.upstream === s) setTimeout(() => endAfterFlush(other), delayMs);
        else endAfterFlush(other);
      },
      error() {},
    };
    this.listener = Bun.listen<Peer>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        ...socketHandlers,
        open: async (client) => {
          const pair: Pair = { client, silent: this.silencingNew };
          client.data = newPeer(undefined, pair);
          pairs.add(pair);
          if (pair.silent) return; // accepted, never answered: no connection to the target
          let upstream: Socket<Peer>;
          try {
            upstream = await Bun.connect<Peer>({
              hostname: targetHost,
              port: targetPort,
              socket: {
                ...socketHandlers,
                data: (s, chunk) => fromBroker(s.data.other, chunk),
              },
              data: newPeer(client, pair),
            });
          } catch {
            if (!pair.silent) client.end();
            return;
          }
          if (client.data.closed) return void upstream.end(); // gone (or dropped) while connecting
          pair.upstream = upstream;
          if (pair.silent) {
            client.data.pending = []; // cut while connecting: held open, silent
            return;
          }
          client.data.other = upstream;
          for (const chunk of client.data.pending) send(upstream, chunk);
          client.data.pending = [];
        },
        data(client, chunk) {
          if (client.data.pair.silent) return; // read and discarded
          if (client.data.other) send(client.data.other, chunk);
          else client.data.pending.push(Buffer.from(chunk));
        },
      },
    });
  }

  /** Drops every connection through the proxy, silent ones too, as a network failure would (new ones still work). */
  drop(): number {
    const n = this.pairs.size;
    for (const pair of this.pairs) {
      if (!pair.client.data.closed) pair.client.terminate();
      if (pair.upstream && !pair.upstream.data.closed) pair.upstream.terminate();
    }
    this.pairs.clear();
    return n;
  }

  /**
   * Makes every open connection go silent, as a link or switch that stops answering: bytes from
   * either end are read and discarded, nothing is forwarded (what was waiting to go out is lost),
   * no socket is closed or ended, not even when one end closes its own. New connections are then
   * accepted and never answered (no connection to the target) until `restore()`; with
   * `existingOnly`, new connections keep working. Silent connections stay silent (their streams
   * lost bytes) until `drop()` or `stop()` ends them. Returns how many connections it silenced.
   *
   * @example
   * proxy.blackhole(); // taskq, through the proxy, hears nothing more: only a heartbeat can tell
   */
  blackhole(options: { existingOnly?: boolean } = {}): number {
    if (!options.existingOnly) this.silencingNew = true;
    let n = 0;
    for (const pair of this.pairs) {
      if (pair.silent) continue;
      pair.silent = true;
      n++;
      for (const s of [pair.client, pair.upstream]) {
        if (!s) continue;
        s.data.out = [];
        s.data.pending = [];
        s.data.ending = false;
      }
    }
    return n;
  }

  /** New connections work again; those already silent stay so (see `blackhole`). */
  restore(): void {
    this.silencingNew = false;
  }

  /** Open connections, silent ones included. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Ends every connection (silent ones too) and stops listening. */
  stop(): void {
    this.restore();
    this.drop();
    this.listener?.stop(true);
  }
}

interface Pair {
  client: Socket<Peer>;
  upstream?: Socket<Peer>;
  /** Blackholed: nothing forwarded either way, no close passed on. */
  silent: boolean;
}

interface Peer {
  /** What the client sent before the upstream connection was open. */
  pending: Buffer[];
  /** Not yet taken by this socket's writes, in order. */
  out: Buffer[];
  /** The other side closed: end this one once `out` is written. */
  ending: boolean;
  closed: boolean;
  other: Socket<Peer> | undefined;
  pair: Pair;
}

const newPeer = (other: Socket<Peer> | undefined, pair: Pair): Peer => ({
  pending: [],
  out: [],
  ending: false,
  closed: false,
  other,
  pair,
});
