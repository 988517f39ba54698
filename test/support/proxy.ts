import type { Socket, TCPSocketListener } from "bun";

/**
 * A TCP proxy in front of the broker, so a test can cut the network between
 * taskq and RabbitMQ (every open connection dropped at once) without touching
 * the broker itself.
 */
export class DropProxy {
  private readonly pairs = new Set<Pair>();
  private listener: TCPSocketListener<Peer> | undefined;
  private heldChunks = 0;
  private shortWriteCount = 0;

  constructor(
    private readonly targetPort = 5672,
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

  async start(): Promise<void> {
    const pairs = this.pairs;
    const { targetHost, targetPort, delayMs } = this;
    // A socket write may take only part of a chunk (Bun returns how many bytes it took):
    // the rest waits in `out` and goes on 'drain', before anything written later. What is
    // kept is copied: Bun may reuse a received chunk's memory once its callback returns.
    const send = (to: Socket<Peer> | undefined, chunk: Buffer) => {
      if (!to || to.data.closed) return;
      if (to.data.out.length > 0) return void to.data.out.push(Buffer.from(chunk));
      const n = to.write(chunk);
      if (n >= chunk.length) return;
      this.shortWriteCount++;
      to.data.out.push(Buffer.from(chunk.subarray(Math.max(n, 0))));
    };
    const flush = (s: Socket<Peer>) => {
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
      if (!s || s.data.closed) return;
      s.data.ending = true;
      if (s.data.out.length === 0) s.end();
    };
    const fromBroker = (client: Socket<Peer> | undefined, chunk: Buffer) => {
      if (delayMs === 0) return send(client, chunk);
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
        pairs.delete(s.data.pair);
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
        async open(client) {
          const pair: Pair = { client };
          client.data = newPeer(undefined, pair);
          pairs.add(pair);
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
            client.end();
            return;
          }
          if (client.data.closed) return void upstream.end(); // gone (or dropped) while connecting
          pair.upstream = upstream;
          client.data.other = upstream;
          for (const chunk of client.data.pending) send(upstream, chunk);
          client.data.pending = [];
        },
        data(client, chunk) {
          if (client.data.other) send(client.data.other, chunk);
          else client.data.pending.push(Buffer.from(chunk));
        },
      },
    });
  }

  /** Drops every connection through the proxy, as a network failure would (new ones still work). */
  drop(): number {
    const n = this.pairs.size;
    for (const pair of this.pairs) {
      pair.client.terminate();
      pair.upstream?.terminate();
    }
    this.pairs.clear();
    return n;
  }

  get connections(): number {
    return this.pairs.size;
  }

  stop(): void {
    this.drop();
    this.listener?.stop(true);
  }
}

interface Pair {
  client: Socket<Peer>;
  upstream?: Socket<Peer>;
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

const newPeer = (other: Socket<Peer> | undefined, pair: Pair): Peer => ({ pending: [], out: [], ending: false, closed: false, other, pair });
