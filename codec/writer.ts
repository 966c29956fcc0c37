/**
 * A growable big-endian writer with reserve-then-backpatch lengths.
 *
 * Lengths are never taken from the caller (codec.md point 4): a structure's
 * length field is reserved with {@link Writer.beginLength}, the body written,
 * and {@link Writer.endLength} patches it, optionally padding to 8 bytes.
 * Whether the pad is counted is the caller's choice, because OpenFlow differs
 * per structure (ofp_match excludes it, actions include it).
 */
const utf8 = new TextEncoder();

/**
 * Big-endian stores into a buffer {@link Writer.reserve} returned, for hot
 * encoders that write a fixed-size block at once. A Uint8Array store keeps
 * the low 8 bits (ToUint8), so values need no masking.
 */
export function putU16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 8;
  buf[at + 1] = v;
}

export function putU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * Makes room for `n` more bytes and returns the buffer to store them in,
   * at `pos` .. `pos + n` (the caller advances `pos`). The buffer is valid
   * until the next write through the writer (which may grow it).
   */
  reserve(n: number): Uint8Array {
    this.ensure(n);
    return this.buf;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  // Byte stores rather than DataView calls: a Uint8Array store keeps the low
  // 8 bits (ToUint8), so no masking is needed and the bytes are the same.
  u16(v: number): this {
    this.ensure(2);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v >>> 8;
    buf[p + 1] = v;
    this.pos = p + 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v >>> 24;
    buf[p + 1] = v >>> 16;
    buf[p + 2] = v >>> 8;
    buf[p + 3] = v;
    this.pos = p + 4;
    return this;
  }

  u64(v: bigint): this {
    this.ensure(8);
    // setBigUint64 already wraps modulo 2^64 (ToBigUint64), as BigInt.asUintN
    // did; a zero (cookie masks, most cookies' low words) needs no BigInt work.
    if (v === 0n) {
      const buf = this.buf;
      const p = this.pos;
      for (let i = p; i < p + 8; i++) buf[i] = 0;
    } else {
      this.view.setBigUint64(this.pos, v);
    }
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    const n = b.length;
    this.ensure(n);
    const buf = this.buf;
    const p = this.pos;
    // OXM values and masks are 1..16 bytes: a loop beats TypedArray#set there.
    if (n <= 16) for (let i = 0; i < n; i++) buf[p + i] = b[i]!;
    else buf.set(b, p);
    this.pos = p + n;
    return this;
  }

  zeros(size: number): this {
    this.ensure(size);
    const buf = this.buf;
    const end = this.pos + size;
    // Pads are a few bytes: a loop beats a fill() call at that size.
    if (size <= 16) for (let i = this.pos; i < end; i++) buf[i] = 0;
    else buf.fill(0, this.pos, end);
    this.pos = end;
    return this;
  }

  /**
   * A NUL-padded fixed-size UTF-8 field. Like OVS (`ovs_strlcpy`), at most
   * `size - 1` bytes are kept so a NUL always ends the name; a longer name
   * is cut at a character boundary, never inside a UTF-8 sequence.
   */
  fixedString(s: string, size: number): this {
    this.ensure(size);
    const buf = this.buf;
    const at = this.pos;
    const max = size - 1;
    let n = 0;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      n = Math.min(s.length, max);
      for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
    } else {
      // Whole code points only: stop before the first one that does not fit.
      for (const ch of s) {
        const bytes = utf8.encode(ch);
        if (n + bytes.length > max) break;
        buf.set(bytes, at + n);
        n += bytes.length;
      }
    }
    buf.fill(0, at + n, at + size);
    this.pos += size;
    return this;
  }

  /** Zero-pads to the next multiple of `align` (relative to `from`, default 0). */
  padTo(align: number, from = 0): this {
    const rem = (this.pos - from) % align;
    if (rem !== 0) this.zeros(align - rem);
    return this;
  }

  setU16(at: number, v: number): void {
    const buf = this.buf;
    buf[at] = v >>> 8;
    buf[at + 1] = v;
  }

  setU32(at: number, v: number): void {
    const buf = this.buf;
    buf[at] = v >>> 24;
    buf[at + 1] = v >>> 16;
    buf[at + 2] = v >>> 8;
    buf[at + 3] = v;
  }

  setU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  /**
   * Marks the start of a structure whose 16-bit length lives `lengthAt` bytes in.
   * Returns a token for {@link endLength}.
   */
  beginLength(lengthAt: number): { start: number; lengthAt: number } {
    return { start: this.pos, lengthAt: this.pos + lengthAt };
  }

  /**
   * Patches the reserved length. With `pad: "included"` the structure is zero
   * padded to 8 first and the pad counted; with `"excluded"` the length is
   * written first, then the pad appended; with `"none"` nothing is padded.
   * Throws a RangeError (an encoder bug or an oversize input) past 65535.
   */
  endLength(
    token: { start: number; lengthAt: number },
    pad: "included" | "excluded" | "none",
  ): number {
    return this.endLengthAt(token.start, token.lengthAt - token.start, pad);
  }

  /**
   * {@link endLength} without a token object, for hot encoders: the
   * structure started at `start` (a `pos` the caller saved) and its 16-bit
   * length lives `lengthOffset` bytes in.
   */
  endLengthAt(start: number, lengthOffset: number, pad: "included" | "excluded" | "none"): number {
    if (pad === "included") {
      const rem = (this.pos - start) & 7;
      if (rem !== 0) this.zeros(8 - rem);
    }
    const length = this.pos - start;
    if (length > 0xffff) throw new RangeError(`structure of ${length} bytes exceeds 65535`);
    putU16(this.buf, start + lengthOffset, length);
    if (pad === "excluded") {
      const rem = length & 7;
      if (rem !== 0) this.zeros(8 - rem);
    }
    return length;
  }

  /** The written bytes (a copy, safe to keep). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** The written bytes as a view of the writer's own buffer: valid until the next write. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
