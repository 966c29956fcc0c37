/**
 * The OVSDB stream framer: concatenated JSON texts with no delimiter
 * (RFC 7047 §4), split anywhere by TCP.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonStreamError, JsonStreamParser } from "../../src/ovsdb/json-stream.js";

const enc = new TextEncoder();

/** Feeds `bytes` cut at `cuts` (sorted offsets) and returns every value produced. */
function feed(bytes: Uint8Array, cuts: readonly number[]): unknown[] {
  const p = new JsonStreamParser();
  const out: unknown[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...p.push(bytes.subarray(prev, c)));
    prev = c;
  }
  expect(p.idle).toBe(true);
  return out;
}

// Strings full of the bytes that matter to the framer.
const tricky = fc.string({
  unit: fc.constantFrom("{", "}", "[", "]", '"', "\\", "a", " ", "é", "€", "😀", "\n", "\u0000"),
  maxLength: 12,
});
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    tricky,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(tricky, tie("value"), { maxKeys: 4 }),
  ),
})).value;
const message = fc.record({
  method: tricky,
  params: fc.array(jsonValue, { maxLength: 4 }),
  id: fc.oneof(fc.integer(), fc.constant(null), tricky),
});

describe("JsonStreamParser", () => {
  it("splits OVSDB messages written back to back, at every byte boundary", () => {
    const msgs = [
      { id: 1, result: ["Open_vSwitch"], error: null },
      { method: "echo", params: ["a}{b", 'q"\\"{'], id: "echo" },
      {
        method: "update",
        params: ["m", { Bridge: { u: { new: { name: "br-{int}" } } } }],
        id: null,
      },
      [1, "[", { x: "]" }],
    ];
    const text =
      msgs.map((m) => JSON.stringify(m)).join("") + "\n " + JSON.stringify({ z: "é€😀" });
    const bytes = enc.encode(text);
    const expected = [...msgs, { z: "é€😀" }];
    for (let i = 0; i <= bytes.length; i++) {
      expect(feed(bytes, [i])).toEqual(expected);
    }
    // One byte at a time (every boundary at once, including inside UTF-8 sequences).
    expect(
      feed(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toEqual(expected);
  });

  it("round-trips arbitrary messages under arbitrary chunking (property)", () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        fc.array(fc.constantFrom("", " ", "\n", "\r\n", "\t"), { minLength: 5, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (msgs, gaps, rawCuts) => {
          const text = msgs.map((m, i) => JSON.stringify(m) + gaps[i % gaps.length]).join("");
          const bytes = enc.encode(text);
          const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          // JSON.parse(JSON.stringify(x)) is the reference: it drops -0 and the like.
          expect(feed(bytes, cuts)).toEqual(msgs.map((m) => JSON.parse(JSON.stringify(m))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps a message pending until its last byte, with idle reporting it", () => {
    const p = new JsonStreamParser();
    expect(p.idle).toBe(true);
    expect(p.push(enc.encode('{"a":"}"'))).toEqual([]);
    expect(p.idle).toBe(false);
    expect(p.push(enc.encode(',"b":[{}]'))).toEqual([]);
    expect(p.push(enc.encode('}{"c'))).toEqual([{ a: "}", b: [{}] }]);
    expect(p.idle).toBe(false);
    expect(p.push(enc.encode('":1}'))).toEqual([{ c: 1 }]);
    expect(p.idle).toBe(true);
  });

  it("refuses garbage between messages, malformed JSON, bad UTF-8 and oversized messages", () => {
    expect(() => new JsonStreamParser().push(enc.encode('{"a":1}x'))).toThrow(JsonStreamError);
    expect(() => new JsonStreamParser().push(enc.encode("42"))).toThrow(
      /between JSON-RPC messages/,
    );
    expect(() => new JsonStreamParser().push(enc.encode('{"a":tru}'))).toThrow(/malformed/);
    expect(() =>
      new JsonStreamParser().push(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    ).toThrow(/UTF-8/);
    const small = new JsonStreamParser(16);
    expect(() => {
      small.push(enc.encode('{"a":"0123456'));
      small.push(enc.encode('789abcdef"}'));
    }).toThrow(/exceeds 16 bytes/);
    expect(() => new JsonStreamParser(16).push(enc.encode('{"a":"0123456789abcdef"}'))).toThrow(
      /exceeds/,
    );
  });
});
