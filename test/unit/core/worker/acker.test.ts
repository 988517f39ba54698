import { describe, expect, test } from "bun:test";
import type { ConsumeMessage } from "amqplib";
import { Acker } from "../../../../src/core/worker/acker.ts";
import { fakeChannel } from "../../../support/fakeChannel.ts";

const msg = (tag: number) => ({ fields: { deliveryTag: tag } }) as ConsumeMessage;
/** One event-loop turn: the Acker's batch flush (an earlier setImmediate) has run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** An Acker on a fake channel (the fallback writer: plain ack/nack), with `tags` delivered in order. */
function setup(tags: number[], options: { internals?: boolean } = {}) {
  const fake = fakeChannel(options);
  const state = { open: true };
  const acker = new Acker(fake.channel, () => state.open);
  for (const tag of tags) acker.track(msg(tag));
  return { acker, state, ...fake };
}

describe("Acker: acks of one turn go out together", () => {
  test.each<[string, number[], number[], string[]]>([
    ["all done, in order: one multiple ack for the last", [1, 2, 3, 4, 5], [1, 2, 3, 4, 5], ["ack 5 multiple"]],
    ["all done, out of order: still one multiple ack", [1, 2, 3], [3, 1, 2], ["ack 3 multiple"]],
    ["only the first done: a single ack, not multiple", [1, 2, 3], [1], ["ack 1"]],
    [
      "a gap: multiple for the done prefix, singles for the rest",
      [1, 2, 3, 4, 5],
      [1, 2, 4, 5],
      ["ack 2 multiple", "ack 4", "ack 5"],
    ],
    ["the first not done: singles only (a multiple ack would ack it too)", [1, 2, 3], [3, 2], ["ack 3", "ack 2"]],
    ["an untracked delivery is still acked, alone", [1], [1, 9], ["ack 1", "ack 9"]],
  ])("%s", async (_name, tracked, done, expected) => {
    const { acker, texts } = setup(tracked);
    for (const tag of done) acker.ack(msg(tag), true);
    expect(texts()).toEqual([]); // nothing before the turn ends
    await turn();
    expect(texts()).toEqual(expected);
  });

  test("what was acked is forgotten: the next batch starts after it", async () => {
    const { acker, texts } = setup([1, 2, 3, 4]);
    acker.ack(msg(1), true);
    acker.ack(msg(2), true);
    await turn();
    acker.ack(msg(4), true);
    acker.ack(msg(3), true);
    await turn();
    expect(texts()).toEqual(["ack 2 multiple", "ack 4 multiple"]);
  });

  test("without batch: acked at once; a later ack does not cover an earlier single one again", () => {
    const { acker, texts } = setup([1, 2, 3]);
    acker.ack(msg(2), false);
    expect(texts()).toEqual(["ack 2"]);
    acker.ack(msg(1), false);
    acker.ack(msg(3), false);
    expect(texts()).toEqual(["ack 2", "ack 1", "ack 3"]);
  });

  test("an ack without batch also flushes the batched ones before it, and the turn's flush finds nothing left", async () => {
    const { acker, texts } = setup([1, 2, 3]);
    acker.ack(msg(1), true);
    acker.ack(msg(2), false);
    expect(texts()).toEqual(["ack 2 multiple"]);
    await turn();
    expect(texts()).toEqual(["ack 2 multiple"]);
  });
});

describe("Acker: requeue", () => {
  test("flushes the pending acks first, then nacks with requeue (and nothing is written twice)", async () => {
    const { acker, texts } = setup([1, 2, 3]);
    acker.ack(msg(1), true);
    acker.ack(msg(2), true);
    acker.requeue(msg(3));
    expect(texts()).toEqual(["ack 2 multiple", "nack 3 requeue"]);
    await turn();
    expect(texts()).toEqual(["ack 2 multiple", "nack 3 requeue"]);
  });

  test("a requeued delivery is no longer outstanding: those after it join the multiple ack", async () => {
    const { acker, texts } = setup([1, 2, 3]);
    acker.requeue(msg(2));
    acker.ack(msg(1), true);
    acker.ack(msg(3), true);
    await turn();
    // The broker's multiple ack covers only what is still unacked up to 3: 1 and 3.
    expect(texts()).toEqual(["nack 2 requeue", "ack 3 multiple"]);
  });
});

describe("Acker: a closed channel gets nothing", () => {
  test("closed from the start: no ack, no nack", async () => {
    const { acker, state, texts } = setup([1, 2, 3]);
    state.open = false;
    acker.ack(msg(1), false);
    acker.ack(msg(2), true);
    acker.requeue(msg(3));
    await turn();
    expect(texts()).toEqual([]);
  });

  test("closed between the ack and the end of the turn: the batch is not written", async () => {
    const { acker, state, texts } = setup([1, 2]);
    acker.ack(msg(1), true);
    acker.ack(msg(2), true);
    state.open = false;
    await turn();
    expect(texts()).toEqual([]);
  });
});

describe("Acker: queueBehind", () => {
  test("before it, acks are frames straight to the socket; after it, through amqplib's queue (behind a cancel)", async () => {
    const { acker, calls } = setup([1, 2, 3, 4], { internals: true });
    acker.ack(msg(1), true);
    acker.ack(msg(2), true);
    await turn();
    acker.queueBehind();
    acker.ack(msg(3), true);
    await turn();
    acker.requeue(msg(4));
    expect(calls).toEqual([
      { via: "socket", text: "ack 2 multiple" },
      { via: "channel", text: "ack 3" },
      { via: "channel", text: "nack 4 requeue" },
    ]);
  });
});
