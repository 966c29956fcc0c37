/**
 * A bounds-checked big-endian cursor over a Uint8Array.
 *
 * Every read is checked against `end` in one place; a short read raises the
 * caller-chosen {@link OfpError} code (the BAD_LEN of the structure being
 * decoded), never a RangeError. Sub-structures are decoded from a child reader
 * bounded by their own length (`sub`), so a TLV cannot read past its parent
 * (reliability.md §1.4: "decode the child from a bounded view of its own bytes").
 */
import { getU16, getU32, getU64, viewOf } from "./bytes.js";
import { OfpError } from "./errors.js";

const utf8 = new TextDecoder("utf-8");

export class Reader {
  readonly buf: Uint8Array;
  /** Current position, absolute in `buf`. */
  pos: number;
  /** Exclusive end of the readable region, absolute in `buf`. */
  readonly end: number;
  /** Error code raised when a read would pass `end`. */
  readonly shortCode: string;
  #view: DataView | undefined;

  constructor(buf: Uint8Array, options: { start?: number; end?: number; shortCode?: string } = {}) {
    this.buf = buf;
    this.pos = options.start ?? 0;
    this.end = options.end ?? buf.byteLength;
    this.shortCode = options.shortCode ?? "OFPBRC_BAD_LEN";
    this.#view = undefined;
    if (this.end > buf.byteLength || this.pos > this.end || this.pos < 0) {
      throw new OfpError(this.shortCode, `reader bounds ${this.pos}..${this.end} outside buffer`);
    }
  }

  /**
   * A DataView over `buf`, made on first use: the hot decoders read bytes
   * directly (bytes.ts), so most messages never need one.
   */
  get view(): DataView {
    return (this.#view ??= viewOf(this.buf));
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws `code` (default: this reader's short code) unless `size` bytes remain. */
  need(size: number, what: string, code: string = this.shortCode): void {
    if (size < 0 || this.pos + size > this.end) {
      throw new OfpError(code, `${what}: needs ${size} bytes, ${this.remaining} left`, {
        offset: this.pos,
      });
    }
  }

  /**
   * A child reader over the next `size` bytes; this reader skips past them.
   * `code` is raised here if they are not all present, and becomes the child's short code.
   */
  sub(size: number, what: string, code: string = this.shortCode): Reader {
    this.need(size, what, code);
    const child = new Reader(this.buf, { start: this.pos, end: this.pos + size, shortCode: code });
    this.pos += size;
    return child;
  }

  u8(): number {
    this.need(1, "u8");
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2, "u16");
    const v = getU16(this.buf, this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4, "u32");
    const v = getU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8, "u64");
    const v = getU64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * A view of the next `size` bytes. It aliases the input buffer: decoded
   * messages share their bytes with what was decoded (decodeMessage gets a
   * message the framer already copied out of the stream), so do not reuse
   * an input buffer while its decoded values are alive.
   */
  bytes(size: number): Uint8Array {
    this.need(size, "bytes");
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  /** Everything up to `end` (a view, see {@link Reader.bytes}). */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  skip(size: number): void {
    this.need(size, "pad");
    this.pos += size;
  }

  /**
   * A NUL-padded fixed-size UTF-8 field (port, table and desc names): the
   * bytes up to the first NUL. OVS copies names as bytes, and switches do
   * send non-ASCII ones (Ryu vectors 4-39, 4-56 carry Japanese port/table
   * names); malformed UTF-8 decodes to U+FFFD rather than failing.
   */
  fixedString(size: number): string {
    this.need(size, "string");
    const buf = this.buf;
    const start = this.pos;
    const limit = start + size;
    let stop = start;
    let ascii = true;
    for (; stop < limit; stop++) {
      const b = buf[stop]!;
      if (b === 0) break;
      if (b >= 0x80) ascii = false;
    }
    this.pos = limit;
    if (!ascii) return utf8.decode(buf.subarray(start, stop));
    let s = "";
    for (let i = start; i < stop; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }

  peekU16(at: number = this.pos): number {
    if (at + 2 > this.end) throw new OfpError(this.shortCode, "peek u16 past end", { offset: at });
    return getU16(this.buf, at);
  }

  peekU32(at: number = this.pos): number {
    if (at + 4 > this.end) throw new OfpError(this.shortCode, "peek u32 past end", { offset: at });
    return getU32(this.buf, at);
  }
}
