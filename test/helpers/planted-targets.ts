/**
 * Fuzz targets with planted bugs, used only to prove the watchdog works: a
 * zero-length TLV loop that never advances (the Ryu #188–#196 bug class), an
 * escaping RangeError, and an allocation blow-up. test/codec/fuzz.test.ts
 * checks that each is reported with its input instead of hanging the suite.
 */
import type { FuzzTarget } from "./fuzz-target.js";
import { hex, toHex } from "./hex.js";

/** Walks TLVs of [type u8, len u8, value…]; a len of 0 loops forever (planted). */
function walkTlvs(b: Uint8Array): number {
  let at = 0;
  let n = 0;
  while (at + 2 <= b.length) {
    const len = b[at + 1]!;
    if (len > b.length - at) throw new RangeError("overrun"); // planted: not an OfpError
    at += len; // planted: len 0 never advances
    n++;
  }
  return n;
}

const bytesTarget = (name: string, run: (b: Uint8Array) => void): FuzzTarget<Uint8Array> => ({
  name,
  arbitrary: (fc) => fc.uint8Array({ minLength: 0, maxLength: 16 }),
  run,
  serialize: (b) => toHex(b),
  deserialize: (t) => hex(t),
});

export const targets = {
  "planted-hang": bytesTarget("planted-hang", (b) => {
    try {
      walkTlvs(b);
    } catch {
      // the overrun is not what this target plants
    }
  }),
  "planted-escape": bytesTarget("planted-escape", (b) => {
    walkTlvs(b.map((x) => (x === 0 ? 1 : x)));
  }),
  "planted-oom": bytesTarget("planted-oom", () => {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(1 << 20).fill(1));
  }),
} satisfies Record<string, FuzzTarget<Uint8Array>>;
