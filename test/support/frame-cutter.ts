import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { BROKER_PORT } from "./broker.ts";

/** AMQP 0-9-1 methods a test can cut at: [class id, method id]. */
export const METHOD = {
  basicPublish: [60, 40],
  basicGet: [60, 70],
  basicAck: [60, 80],
} as const satisfies Record<string, readonly [number, number]>;

export interface CutAt {
  /** The method whose `nth` frame from the client is the first one the broker never gets. */
  method: readonly [number, number];
  nth: number;
  /**
   * After the cut: "close" ends the broker's side once what came before is written (it sees the
   * client gone at once and requeues what the connection held); "hold" leaves it open and silent
   * (a dead link: the broker holds the connection's unacked tasks until its heartbeat check or
   * `stop()`).
   */
  broker: "close" | "hold";
}

/**
 * A proxy in front of the broker that cuts the first connection through it at an exact frame, so
 * a test knows what the broker got: the client's frames before the cut reach the broker, the cut
 * frame and everything after it do not, and nothing the broker sends after the cut reaches the
 * client (its socket is destroyed). Later connections pass through untouched.
 */
export class FrameCutter {
  /** Whether the cut happened. */
  cut = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  constructor(
    private readonly at: CutAt,
    private readonly target = { host: "127.0.0.1", port: BROKER_PORT },
  ) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error("the frame cutter is not listening");
    return `amqp://guest:guest@127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
  }

  /** Ends every connection (a held one too: the broker then requeues what it held) and stops listening. */
  stop(): void {
    for (const s of this.sockets) s.destroy();
    this.server?.close();
  }

  private accept(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => this.sockets.delete(s));
    }
    const cutting = this.connections++ === 0;
    let cut = false;
    upstream.on("data", (chunk) => {
      if (!cut) client.write(chunk);
    });
    upstream.on("end", () => client.end());
    client.on("end", () => {
      if (!cut) upstream.end();
    });
    if (!cutting) return void client.on("data", (chunk) => upstream.write(chunk));
    let pending = Buffer.alloc(0);
    let headerLeft = 8; // "AMQP" 0 0 9 1
    let seen = 0;
    client.on("data", (chunk) => {
      if (cut) return;
      pending = Buffer.concat([pending, chunk as Buffer]);
      if (headerLeft > 0) {
        const n = Math.min(headerLeft, pending.length);
        upstream.write(pending.subarray(0, n));
        pending = pending.subarray(n);
        headerLeft -= n;
      }
      // Whole frames only: type(1) channel(2) size(4) payload(size) end(1).
      while (pending.length >= 7 && pending.length >= 8 + pending.readUInt32BE(3)) {
        const size = 8 + pending.readUInt32BE(3);
        const frame = pending.subarray(0, size);
        pending = pending.subarray(size);
        const [classId, methodId] = this.at.method;
        if (
          frame[0] === 1 &&
          frame.readUInt16BE(7) === classId &&
          frame.readUInt16BE(9) === methodId &&
          ++seen === this.at.nth
        ) {
          cut = true;
          this.cut = true;
          client.destroy();
          if (this.at.broker === "close") upstream.end();
          return;
        }
        upstream.write(frame);
      }
    });
  }
}
