import { expect, expectTypeOf, test } from "bun:test";
import { type Client, type ClientOptions, type ClientSendOptions, connect, task } from "taskq";

// Checked by `tsc --noEmit -p .`: the client is part of the package's face.
test("connect() and its Client: typed as a service uses them", () => {
  expectTypeOf<Parameters<typeof connect>[0]>().toEqualTypeOf<ClientOptions | undefined>();
  expectTypeOf<Awaited<ReturnType<typeof connect>>>().toEqualTypeOf<Client>();
  expectTypeOf<Awaited<ReturnType<Client["send"]>>>().toEqualTypeOf<{ id: string }>();
  expectTypeOf<ClientSendOptions>().toEqualTypeOf<{ queue?: string; delayMs?: number }>();
  const use = async (q: Client) => {
    await q.send({ userId: 1 });
    await q.send(task("x", { id: "k" }), { queue: "other", delayMs: 10 });
    await q.close();
  };
  expect(typeof use).toBe("function");
});

test("connect() with a bad option: a usage error before any connection", async () => {
  await expect(connect({ blockedTimeoutMs: Number.NaN, url: "amqp://127.0.0.1:1" })).rejects.toThrow(
    "blockedTimeoutMs must be 0 or more milliseconds, got NaN",
  );
  await expect(connect({ heartbeat: -1, url: "amqp://127.0.0.1:1" })).rejects.toThrow(
    /heartbeat must be whole seconds/,
  );
});
