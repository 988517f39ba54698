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
