import { describe, expect, test } from "bun:test";
import { countDots } from "../../../src/handlers/simulate.ts";

describe("countDots", () => {
  test.each<[string, Buffer, number]>([
    ["empty body", Buffer.alloc(0), 0],
    ["no dots", Buffer.from("Hello World"), 0],
    ["the tutorial's 'First message.'", Buffer.from("First message."), 1],
    ["the tutorial's 'Third message...'", Buffer.from("Third message..."), 3],
    ["the tutorial's 'Fifth message.....'", Buffer.from("Fifth message....."), 5],
    ["dots anywhere", Buffer.from(".a.b.c."), 4],
    ["only dots", Buffer.from(".".repeat(100)), 100],
    ["other punctuation is not a dot", Buffer.from(",;:!?…·"), 0],
    ["dots between non-UTF-8 bytes", Buffer.from([0xff, 0x2e, 0xfe, 0x2e, 0x00]), 2],
    ["U+FF0E fullwidth full stop is not a dot", Buffer.from("．．"), 0],
  ])("%s -> %p", (_name, body, expected) => {
    expect(countDots(body)).toBe(expected);
  });
});
