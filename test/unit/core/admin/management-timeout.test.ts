import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Server, type Socket, createServer } from "node:net";
import { managementClient } from "../../../../src/core/admin/management.ts";
import { parseBrokerUrl } from "../../../../src/core/broker/url.ts";

// A broker host whose port 15672 takes the connection and never answers (a firewall that drops
// it behaves alike, or worse): the default URL, which taskq only guessed, gets 1.5 s, not 5 s.
const HOST = "127.0.0.3";
let server: Server;
const sockets: Socket[] = [];
beforeAll(async () => {
  server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(15672, HOST, resolve));
});
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  server.close();
});

test("the default management URL that never answers gives up after 1.5 s and says so", async () => {
  const api = managementClient(parseBrokerUrl(`amqp://guest:guest@${HOST}:5672`));
  const err = await api.queues("^jobs").catch((e: Error) => e);
  expect((err as Error).message).toBe(
    `http://${HOST}:15672 did not answer within 1.5s (guessed from the broker's address: set --management-url or TASKQ_MANAGEMENT_URL)`,
  );
});
