import type { Socket, TCPSocketListener } from "bun";

/**
 * A TCP proxy in front of the broker, so a test can cut the network between
 * taskq and RabbitMQ (every open connection dropped at once) without touching
 * the broker itself.
 */
export class DropProxy {
  private readonly pairs = new Set<{ client: Socket<Peer>; upstream?: Socket<Peer> }>();
  private listener: TCPSocketListener<Peer> | undefined;

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

  async start(): Promise<void> {
    const pairs = this.pairs;
    const { targetHost, targetPort, delayMs } = this;
    this.listener = Bun.listen<Peer>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        async open(client) {
          const pair: { client: Socket<Peer>; upstream?: Socket<Peer> } = { client };
          client.data = { pending: [], other: undefined, pair };
          pairs.add(pair);
          const upstream = await Bun.connect<Peer>({
            hostname: targetHost,
            port: targetPort,
            socket: {
              data(s, chunk) {
                if (delayMs === 0) s.data.other?.write(chunk);
                else {
                  const copy = Buffer.from(chunk);
                  setTimeout(() => s.data.other?.write(copy), delayMs);
                }
              },
              close(s) {
                s.data.other?.end();
              },
              error() {},
            },
            data: { pending: [], other: client, pair },
          });
          pair.upstream = upstream;
          client.data.other = upstream;
          for (const chunk of client.data.pending) upstream.write(chunk);
          client.data.pending = [];
        },
        data(client, chunk) {
          if (client.data.other) client.data.other.write(chunk);
          else client.data.pending.push(Buffer.from(chunk));
        },
        close(client) {
          client.data.other?.end();
          pairs.delete(client.data.pair);
        },
        error() {},
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

interface Peer {
  pending: Buffer[];
  other: Socket<Peer> | undefined;
  pair: { client: Socket<Peer>; upstream?: Socket<Peer> };
}
