import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ackWriter } from "../../../../src/core/broker/amqplib.ts";
import { fakeChannel } from "../../../support/fakeChannel.ts";

// With the real amqplib: test/e2e/frames.test.ts.

describe("ackWriter: the frames it writes (AMQP 0-9-1 basic.ack / basic.nack)", () => {
  test.each<[string, (w: ReturnType<typeof ackWriter>) => void, string]>([
    // type 1 | channel | size 13 | class 60 | method 80/120 | delivery tag (64 bits) | bits | frame end
    ["ack", (w) => w.ack(5, false), "01 0007 0000000d 003c 0050 0000000000000005 00 ce"],
    ["ack multiple", (w) => w.ack(5, true), "01 0007 0000000d 003c 0050 0000000000000005 01 ce"],
    ["nack", (w) => w.nack(6, false, false), "01 0007 0000000d 003c 0078 0000000000000006 00 ce"],
    ["nack requeue", (w) => w.nack(6, false, true), "01 0007 0000000d 003c 0078 0000000000000006 02 ce"],
    ["nack multiple requeue", (w) => w.nack(6, true, true), "01 0007 0000000d 003c 0078 0000000000000006 03 ce"],
    ["a tag past 32 bits", (w) => w.ack(2 ** 40 + 1, false), "01 0007 0000000d 003c 0050 0000010000000001 00 ce"],
  ])("%s", (_name, write, hex) => {
    const fake = fakeChannel({ internals: true, channelNumber: 7 });
    const writer = ackWriter(fake.channel);
    expect(writer.direct).toBe(true);
    write(writer);
    expect(fake.frames.map((f) => f.toString("hex"))).toEqual([hex.replaceAll(" ", "")]);
    expect(fake.calls.every((c) => c.via === "socket")).toBe(true);
  });
});

describe("ackWriter: the fallback", () => {
  test.each<[string, Parameters<typeof fakeChannel>[0], Record<string, unknown>]>([
    ["no internals (a plain ack/nack object)", {}, {}],
    ["a channel number that is not a number", { internals: true }, { ch: "1" }],
    ["no sendBytes on the connection", { internals: true }, { connection: {} }],
  ])("%s: direct is false, acks and nacks go through the public API", (_name, options, override) => {
    const fake = fakeChannel(options);
    Object.assign(fake.channel, override);
    const writer = ackWriter(fake.channel);
    expect(writer.direct).toBe(false);
    writer.ack(3, true);
    writer.nack(4, false, true);
    expect(fake.calls).toEqual([
      { via: "channel", text: "ack 3 multiple" },
      { via: "channel", text: "nack 4 requeue" },
    ]);
  });

  test("queueBehind turns a direct writer into a queued one, for good", () => {
    const fake = fakeChannel({ internals: true });
    const writer = ackWriter(fake.channel);
    writer.ack(1, false);
    writer.queueBehind();
    expect(writer.direct).toBe(false);
    writer.ack(2, false);
    writer.nack(3, false, false);
    expect(fake.calls).toEqual([
      { via: "socket", text: "ack 1" },
      { via: "channel", text: "ack 2" },
      { via: "channel", text: "nack 3" },
    ]);
  });
});

describe("amqplib's internals: each fallback is said once, as a process warning", () => {
  test("acks, write coalescing and cutting a socket on an amqplib without the internals taskq knows", async () => {
    // In a process of its own: which warnings were said is the module's state for the process.
    const script = `
      const said = [];
      process.emitWarning = (message) => said.push(String(message));
      const { ackWriter, coalesceWrites, destroySocket } = await import(${JSON.stringify(join(import.meta.dir, "../../../../src/core/broker/amqplib.ts"))});
      const plain = { ack() {}, nack() {} };
      for (let i = 0; i < 3; i++) {
        if (ackWriter(plain).direct || coalesceWrites({}) || destroySocket({}, new Error("x"))) throw new Error("internals found in a fake");
      }
      console.log(JSON.stringify(said));`;
    const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const said = JSON.parse(await new Response(proc.stdout).text()) as string[];
    expect(await proc.exited).toBe(0);
    expect(said).toHaveLength(3);
    expect(said.join("\n")).toContain("acks go through the channel's queue");
    expect(said.join("\n")).toContain("each frame is written on its own");
    expect(said.join("\n")).toContain("a silent connection is closed politely instead");
  });
});
