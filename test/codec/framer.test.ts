/**
 * The framer: split invariance, many frames per chunk, fresh copies, and the
 * fatal framing errors OVS disconnects on (`lib/vconn-stream.c`).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FramingError, Framer } from "../../codec/framer.js";
import { OfpError } from "../../codec/errors.js";
import { SHARED } from "../shared-path.js";

const DIR = `${SHARED}/openflow-vectors/ryu-of13/packet`;
const vectors = readdirSync(DIR)
  .filter((f) => f.endsWith(".packet"))
  .sort()
  .map((f) => new Uint8Array(readFileSync(join(DIR, f))));

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Feeds `stream` in pieces cut at `cuts` and returns all frames. */
function feed(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const framer = new Framer();
  const frames: Uint8Array[] = [];
  let prev = 0;
  for (const cut of [...cuts, stream.byteLength]) {
    frames.push(...framer.push(stream.subarray(prev, cut)));
    prev = cut;
  }
  expect(framer.buffered).toBe(0);
  return frames;
}

describe("Framer", () => {
  const small = [vectors[5]!, vectors[10]!, vectors[20]!, vectors[30]!];
  const stream = concat(small);

  it("returns every message of one chunk, in order", () => {
    const all = concat(vectors);
    const frames = new Framer().push(all);
    expect(frames.map(toHex)).toEqual(vectors.map(toHex));
  });

  it("gives the same frames for a stream split at every byte boundary", () => {
    const expected = small.map(toHex);
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      expect(feed(stream, [cut]).map(toHex)).toEqual(expected);
    }
    for (let a = 0; a <= 40; a++) {
      for (let b = a; b <= stream.byteLength; b += 7) {
        expect(feed(stream, [a, b]).map(toHex)).toEqual(expected);
      }
    }
  });

  it("handles one byte at a time", () => {
    const cuts = Array.from({ length: stream.byteLength - 1 }, (_, i) => i + 1);
    expect(feed(stream, cuts).map(toHex)).toEqual(small.map(toHex));
  });

  it("keeps a partial frame until the rest arrives", () => {
    const framer = new Framer();
    const msg = vectors[0]!;
    expect(framer.push(msg.subarray(0, 5))).toEqual([]);
    expect(framer.buffered).toBe(5);
    expect(framer.push(msg.subarray(5, msg.byteLength - 1))).toEqual([]);
    const frames = framer.push(msg.subarray(msg.byteLength - 1));
    expect(frames.map(toHex)).toEqual([toHex(msg)]);
    expect(framer.buffered).toBe(0);
  });

  it("returns fresh copies that do not alias the input, and copes with a reused input buffer", () => {
    const framer = new Framer();
    const buf = new Uint8Array(stream); // caller-owned, reused below
    const split = small[0]!.byteLength + 3;
    const first = framer.push(buf.subarray(0, split));
    expect(first.length).toBe(1);
    expect(first[0]!.buffer).not.toBe(buf.buffer);
    const rest = stream.slice(split);
    buf.fill(0xee); // the caller reuses its buffer after push
    expect(toHex(first[0]!)).toBe(toHex(small[0]!));
    const more = framer.push(rest);
    expect(more.map(toHex)).toEqual(small.slice(1).map(toHex));
    // Frames never alias the caller's buffer nor each other's bytes.
    for (const f of more) expect(f.buffer).not.toBe(rest.buffer);
    for (let i = 1; i < more.length; i++) {
      const a = more[i - 1]!;
      const b = more[i]!;
      if (a.buffer === b.buffer)
        expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.byteLength);
    }
  });

  it("copies out of a Node Buffer too, whose slice() is a view (sockets deliver Buffers)", () => {
    const framer = new Framer();
    const split = small[0]!.byteLength + small[1]!.byteLength + 3;
    const chunk = Buffer.from(stream.subarray(0, split));
    const frames = framer.push(chunk);
    expect(frames).toHaveLength(2);
    chunk.fill(0xee); // the socket layer reuses or drops its chunk
    expect(frames.map(toHex)).toEqual(small.slice(0, 2).map(toHex));
    const rest = framer.push(Buffer.from(stream.subarray(split)));
    expect(toHex(rest[0]!)).toBe(toHex(small[2]!));
  });

  it("raises a fatal OFPBRC_BAD_LEN on a header length under 8, keeping the frames before it", () => {
    const framer = new Framer();
    const bad = hex("0400 0004 00000000");
    let error: unknown;
    try {
      framer.push(concat([small[0]!, bad]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FramingError);
    expect(error).toBeInstanceOf(OfpError);
    const fe = error as FramingError;
    expect(fe.code).toBe("OFPBRC_BAD_LEN");
    expect(fe.fatal).toBe(true);
    expect(fe.offset).toBe(small[0]!.byteLength + 2);
    expect(fe.frames.map(toHex)).toEqual([toHex(small[0]!)]);
    expect(() => framer.push(small[1]!)).toThrow(FramingError);
    framer.reset();
    expect(framer.push(small[1]!).map(toHex)).toEqual([toHex(small[1]!)]);
  });

  it("detects a bad length split across chunks", () => {
    const framer = new Framer();
    expect(framer.push(hex("0400 00"))).toEqual([]);
    expect(() => framer.push(hex("07 00000000"))).toThrow(FramingError);
  });

  it("enforces the configured maximum message size", () => {
    const framer = new Framer({ maxMessageSize: 64 });
    expect(framer.push(hex("0400 0040 00000000")).length).toBe(0); // 64: allowed, waiting
    const strict = new Framer({ maxMessageSize: 64 });
    expect(() => strict.push(hex("0400 0041 00000000"))).toThrow(/exceeds maximum 64/);
    expect(() => new Framer({ maxMessageSize: 7 })).toThrow(RangeError);
  });

  it("frames a large byte-at-a-time stream in linear time", () => {
    // 20k echo requests of 16 bytes, pushed one byte per call: quadratic
    // concatenation would copy ~5e10 bytes here.
    const one = hex("0402 0010 00000001 0102030405060708");
    const big = concat(Array.from({ length: 20_000 }, () => one));
    const framer = new Framer();
    let count = 0;
    const started = performance.now();
    for (let i = 0; i < big.byteLength; i++) count += framer.push(big.subarray(i, i + 1)).length;
    expect(count).toBe(20_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
