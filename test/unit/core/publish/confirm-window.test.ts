import { describe, expect, test } from "bun:test";
import { ConfirmWindow } from "../../../../src/core/publish/confirm-window.ts";

describe("ConfirmWindow", () => {
  test("fixed: full at its size", () => {
    const w = new ConfirmWindow(4);
    expect(w.full(3)).toBe(false);
    expect(w.full(4)).toBe(true);
  });

  test("adaptive: doubles when full after half a window was confirmed, up to the max", () => {
    const w = new ConfirmWindow(4, 16);
    expect(w.full(4)).toBe(true); // nothing confirmed yet: no growth
    w.confirmed(0);
    w.confirmed(0);
    expect(w.full(4)).toBe(false);
    expect(w.size).toBe(8);
    for (let i = 0; i < 4; i++) w.confirmed(0);
    expect(w.full(8)).toBe(false);
    expect(w.size).toBe(16);
    for (let i = 0; i < 8; i++) w.confirmed(0);
    expect(w.full(16)).toBe(true);
    expect(w.size).toBe(16);
  });
});
