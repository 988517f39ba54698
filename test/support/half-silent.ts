import type { Socket, TCPSocketListener } from "bun";
import { BROKER_PORT } from "./broker.ts";

type Peer = { up?: Socket<undefined>; pending: Buffer[]; passAll: boolean; buf: Buffer; silent: boolean };

/**
 * A proxy in front of the broker whose first connection works until `cutMs` (then it is cut;
 * Infinity: never); every later one gets the AMQP handshake answered, through connection.open-ok,
 * and then nothing more from the broker (what the client sends still reaches it). A path that
 * accepts, opens, and goes quiet: no socket closed, no answer to a channel open. `cutMs` 0: the
 * first connection is as silent as the rest. `connections()`: how many it accepted.
 */
export function halfSilentProxy(
  cutMs: number,
  targetPort = BROKER_PORT,
): TCPSocketListener<Peer> & { connections(): number } {
  let n = 0;
  const listener = Bun.listen<Peer>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: async (client) => {
        const id = ++n;
        client.data = { pending: [], passAll: id === 1 && cutMs > 0, buf: Buffer.alloc(0), silent: false };
        const up = await Bun.connect<undefined>({
          hostname: "127.0.0.1",
          port: targetPort,
          data: undefined,
          socket: {
            data: (_s, chunk) => {
              const d = client.data;
              if (d.passAll) return void client.write(chunk);
              if (d.silent) return;
              d.buf = Buffer.concat([d.buf, chunk]);
              // Whole frames (type, channel, size, payload, end), up to and with connection.open-ok (10, 41).
              while (d.buf.length >= 7) {
                const size = d.buf.readUInt32BE(3);
                if (d.buf.length < size + 8) break;
                const frame = d.buf.subarray(0, size + 8);
                d.buf = d.buf.subarray(size + 8);
                client.write(frame);
                if (frame[0] === 1 && frame.readUInt16BE(7) === 10 && frame.readUInt16BE(9) === 41) {
                  d.silent = true;
                  break;
                }
              }
            },
            close: () => {
              if (client.data.passAll || !client.data.silent) client.end();
            },
            error: () => {},
          },
        });
        client.data.up = up;
        for (const chunk of client.data.pending) up.write(chunk);
        client.data.pending = [];
        if (client.data.passAll && Number.isFinite(cutMs))
          setTimeout(() => {
            client.terminate();
            up.terminate();
          }, cutMs);
      },
      data: (client, chunk) => {
        if (client.data.up) client.data.up.write(chunk);
        else client.data.pending.push(Buffer.from(chunk));
      },
      close: (client) => void client.data.up?.end(),
      error: () => {},
    },
  });
  return Object.assign(listener, { connections: () => n });
}
