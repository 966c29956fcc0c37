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

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v & 0xffff);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v));
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
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
    this.view.setUint16(at, v & 0xffff);
  }

  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
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
    if (pad === "included") this.padTo(8, start);
    const length = this.pos - start;
    if (length > 0xffff) throw new RangeError(`structure of ${length} bytes exceeds 65535`);
    this.setU16(start + lengthOffset, length);
    if (pad === "excluded") this.padTo(8, start);
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
