import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { DropProxy } from "../../support/proxy.ts";

// No broker: a local echo server stands in for it, so every byte goes through the proxy twice.
let echo: net.Server;
let echoPort = 0;
beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s)); // pipe() waits on the reader: backpressure reaches the proxy
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => echo.close());

/** `size` bytes that differ from their neighbours, so a lost, doubled or swapped chunk shows. */
function payload(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE(i >>> 2, i);
  return buf;
}

/**
 * Writes `data` through the proxy and reads it all back (not reading for `stallMs` first);
 * fails when nothing more comes for 3 s (bytes lost: the echo has nothing left to send).
 */
function roundTrip(port: number, data: Buffer, stallMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        sock.destroy();
        reject(new Error(`nothing more after ${got} of ${data.length} bytes`));
      }, stallMs + 3000);
    };
    const sock = net.connect(port, "127.0.0.1", () => {
      sock.pause();
      setTimeout(() => sock.resume(), stallMs);
      sock.write(data);
      watch();
    });
    sock.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      watch();
      if (got >= data.length) {
        clearTimeout(quiet);
        sock.end();
        resolve(Buffer.concat(chunks));
      }
    });
    sock.on("error", reject);
    sock.on("close", () => got < data.length && reject(new Error(`closed after ${got} of ${data.length} bytes`)));
  });
}

test.each([0, 20])(
  "delay %d ms: 16 MB through the proxy and back (a slow reader makes writes short): every byte arrives, in order",
  async (delayMs) => {
    const proxy = new DropProxy(echoPort, "127.0.0.1", delayMs);
    await proxy.start();
    try {
      const sent = payload(16 << 20);
      const back = await roundTrip(proxy.port, sent, 300);
      expect(back.length).toBe(sent.length);
      expect(back.equals(sent)).toBe(true);
      // The test means something only if the kernel refused part of a write at least once.
      expect(proxy.shortWrites).toBeGreaterThan(0);
      expect(proxy.held).toBe(0);
    } finally {
      proxy.stop();
    }
  },
  30_000,
);

test("the upstream closing: what it sent before still reaches the client, then the client sees the close", async () => {
  const sent = payload(8 << 20);
  const server = net.createServer((s) => s.end(sent));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy = new DropProxy((server.address() as net.AddressInfo).port);
  await proxy.start();
  try {
    const got = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const sock = net.connect(proxy.port, "127.0.0.1", () => {
        sock.pause();
        setTimeout(() => sock.resume(), 300);
      });
      sock.on("data", (chunk: Buffer) => chunks.push(chunk));
      sock.on("end", () => resolve(Buffer.concat(chunks)));
      sock.on("error", reject);
    });
    expect(got.equals(sent)).toBe(true);
  } finally {
    proxy.stop();
    server.close();
  }
}, 30_000);

/** What one end of a TCP connection has seen: bytes, and whether the other end ended or closed it. */
interface End {
  sock: net.Socket;
  bytes: Buffer[];
  ended: boolean;
  closed: boolean;
}

function watchEnd(sock: net.Socket): End {
  const end: End = { sock, bytes: [], ended: false, closed: false };
  sock.on("data", (chunk: Buffer) => end.bytes.push(chunk));
  sock.on("end", () => (end.ended = true));
  sock.on("close", () => (end.closed = true));
  sock.on("error", () => {});
  return end;
}

const received = (end: End) => Buffer.concat(end.bytes).toString();

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
}

/** An echo server that keeps every connection it accepted, to see what reached it and whether it closed. */
async function recordingServer(): Promise<{ server: net.Server; port: number; ends: End[] }> {
  const ends: End[] = [];
  const server = net.createServer((s) => {
    ends.push(watchEnd(s));
    s.on("data", (chunk: Buffer) => s.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as net.AddressInfo).port, ends };
}

async function connectThrough(port: number): Promise<End> {
  const sock = net.connect(port, "127.0.0.1");
  const end = watchEnd(sock);
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  return end;
}

/** Writes `text` and waits for the echo: the connection works. */
async function echoes(end: End, text: string): Promise<void> {
  const before = received(end);
  end.sock.write(text);
  await until(() => received(end) === before + text, 3000, `the echo of '${text}'`);
}

const SILENCE_MS = 1500;

test("blackhole(): an open connection goes silent both ways, neither end sees a byte or a close; stop() ends both", async () => {
  const { server, port, ends } = await recordingServer();
  const proxy = new DropProxy(port);
  await proxy.start();
  try {
    const client = await connectThrough(proxy.port);
    await echoes(client, "before");
    const upstream = ends[0] as End;
    expect(proxy.blackhole()).toBe(1);
    expect(proxy.silent).toBe(1);
    const [clientHad, upstreamHad] = [received(client), received(upstream)];
    client.sock.write("into the void");
    upstream.sock.write("from the broker, lost");
    await Bun.sleep(SILENCE_MS);
    expect(received(client)).toBe(clientHad);
    expect(received(upstream)).toBe(upstreamHad);
    for (const end of [client, upstream])
      expect([end.ended, end.closed, end.sock.destroyed]).toEqual([false, false, false]);
    expect(proxy.connections).toBe(1);

    proxy.stop();
    await until(() => client.closed && upstream.closed, 3000, "both ends closed by stop()");
  } finally {
    proxy.stop();
    server.close();
  }
}, 10_000);

test("while blackholed, a new connection is accepted and never answered; after restore() new ones work, silent ones stay silent", async () => {
  const { server, port, ends } = await recordingServer();
  const proxy = new DropProxy(port);
  await proxy.start();
  try {
    expect(proxy.blackhole()).toBe(0);
    expect(proxy.blackholed).toBe(true);
    const held = await connectThrough(proxy.port); // accepted: the handshake completes
    held.sock.write("anyone there?");
    await Bun.sleep(SILENCE_MS);
    expect(received(held)).toBe("");
    expect([held.ended, held.closed]).toEqual([false, false]);
    expect(ends.length).toBe(0); // nothing reached the target
    expect(proxy.silent).toBe(1);

    proxy.restore();
    expect(proxy.blackholed).toBe(false);
    const fresh = await connectThrough(proxy.port);
    await echoes(fresh, "back again");
    expect(ends.length).toBe(1);
    held.sock.write("still there?");
    await Bun.sleep(200);
    expect(received(held)).toBe("");
    expect([proxy.silent, proxy.connections]).toEqual([1, 2]);

    proxy.stop();
    await until(() => held.closed && fresh.closed && ends.every((e) => e.closed), 3000, "every end closed by stop()");
  } finally {
    proxy.stop();
    server.close();
  }
}, 10_000);

test("blackhole({ existingOnly: true }) cuts only the connections opened so far", async () => {
  const { server, port, ends } = await recordingServer();
  const proxy = new DropProxy(port);
  await proxy.start();
  try {
    const old = await connectThrough(proxy.port);
    await echoes(old, "one");
    expect(proxy.blackhole({ existingOnly: true })).toBe(1);
    expect(proxy.blackholed).toBe(false);
    const fresh = await connectThrough(proxy.port);
    await echoes(fresh, "two");
    old.sock.write("lost");
    await Bun.sleep(300);
    expect(received(old)).toBe("one");
    expect(received(ends[0] as End)).toBe("one");
    expect([proxy.silent, proxy.connections]).toEqual([1, 2]);
    // A second cut takes the rest, and only those.
    expect(proxy.blackhole({ existingOnly: true })).toBe(1);
    expect(proxy.silent).toBe(2);
  } finally {
    proxy.stop();
    server.close();
  }
}, 10_000);

test("a silent connection its client closes: the target hears no close, and stop() still ends it", async () => {
  const { server, port, ends } = await recordingServer();
  const proxy = new DropProxy(port);
  await proxy.start();
  try {
    const client = await connectThrough(proxy.port);
    await echoes(client, "hi");
    const upstream = ends[0] as End;
    proxy.blackhole();
    client.sock.end();
    await until(() => client.closed, 3000, "the client's own close");
    await Bun.sleep(300);
    expect([upstream.ended, upstream.closed]).toEqual([false, false]);
    expect(proxy.connections).toBe(1); // kept, so stop() can end the other side
    proxy.stop();
    await until(() => upstream.closed, 3000, "the target's end closed by stop()");
    expect(proxy.connections).toBe(0);
  } finally {
    proxy.stop();
    server.close();
  }
}, 10_000);
