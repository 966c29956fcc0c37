/**
 * Stream → whole OpenFlow frames, with no sockets and no timers.
 *
 * How: received chunks are queued as-is (no concatenation per chunk, which is
 * O(n²) under bursts); a running byte count says when the 8-byte header is
 * complete, its `length` is peeked across chunk boundaries, and once that many
 * bytes are queued exactly `length` bytes are copied into a fresh Uint8Array.
 * A frame therefore never aliases a caller's buffer, and the bytes of a chunk
 * that stay queued are copied once, so callers may reuse their buffers.
 * Frames are cut in a loop (never recursion), any number per chunk.
 *
 * Invariants and errors (codec.md §4, OVS `lib/vconn-stream.c`):
 *   - A partial frame is not an error: it stays queued for the next push.
 *   - A header length under 8 ("received too-short ofp_header") or above the
 *     configured maximum cannot be resynchronised: it raises a
 *     {@link FramingError} (OFPBRC_BAD_LEN, `fatal: true`). The caller must close
 *     the connection; the framer refuses further input.
 *   - The framer does not look at version or type; decodeMessage does.
 */
import { OfpError } from "./errors.js";
import { OFP_HEADER_SIZE, OFP_MAX_MESSAGE_SIZE } from "./header.js";

/**
 * A framing failure: the stream cannot be parsed any further. `frames` holds
 * the whole frames that preceded the bad header in the same push, so none
 * are lost.
 */
export class FramingError extends OfpError {
  /** Always true: the connection must be closed (OVS disconnects). */
  readonly fatal = true;
  readonly frames: readonly Uint8Array[];

  constructor(message: string, offset: number, frames: readonly Uint8Array[]) {
    super("OFPBRC_BAD_LEN", message, { offset });
    this.frames = frames;
  }
}

export interface FramerOptions {
  /** Largest accepted message in bytes (8..65535). Default 65535. */
  readonly maxMessageSize?: number;
}

/** Queued chunks above this count are compacted, keeping `shift` cheap. */
const COMPACT_AT = 64;

export class Framer {
  readonly maxMessageSize: number;
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk in `chunks`. */
  private head = 0;
  /** Bytes of chunks[head] already consumed. */
  private offset = 0;
  private queued = 0;
  /** Stream position of the first queued byte (for error offsets). */
  private consumed = 0;
  private failure: FramingError | undefined;

  constructor(options: FramerOptions = {}) {
    const max = options.maxMessageSize ?? OFP_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < OFP_HEADER_SIZE || max > OFP_MAX_MESSAGE_SIZE) {
      throw new RangeError(`maxMessageSize ${max} outside 8..65535`);
    }
    this.maxMessageSize = max;
  }

  /** Bytes received but not yet returned in a frame. */
  get buffered(): number {
    return this.queued;
  }

  /** The error that stopped this framer, if any. */
  get error(): FramingError | undefined {
    return this.failure;
  }

  /**
   * Queues `chunk` and returns every frame now complete, in order, each a
   * private copy: no frame aliases `chunk` (the caller may reuse it) or
   * another frame's bytes. Frames cut from one chunk share one copied
   * ArrayBuffer (one allocation per chunk, not per message; decoded values
   * alias their frame, see reader.ts). Throws a {@link FramingError} on an
   * impossible header (and on every push after one).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== undefined) throw this.failure;
    const frames: Uint8Array[] = [];
    // Fast path: nothing queued, cut frames straight from the chunk.
    let pos = 0;
    if (this.queued === 0) {
      const ends: number[] = [];
      while (chunk.byteLength - pos >= OFP_HEADER_SIZE) {
        const length = (chunk[pos + 2]! << 8) | chunk[pos + 3]!;
        this.checkCut(length, frames, chunk, ends);
        if (chunk.byteLength - pos < length) break;
        pos += length;
        ends.push(pos);
        this.consumed += length;
      }
      cut(chunk, ends, frames);
    }
    if (pos === chunk.byteLength) return frames;
    // Keep a private copy of the rest, so the caller may reuse its buffer.
    this.chunks.push(copyBytes(chunk, pos, chunk.byteLength));
    this.queued += chunk.byteLength - pos;
    while (this.queued >= OFP_HEADER_SIZE) {
      const length = (this.peekByte(2) << 8) | this.peekByte(3);
      this.check(length, frames);
      if (this.queued < length) break;
      frames.push(this.take(length));
    }
    return frames;
  }

  /** Drops everything queued and clears a failure (e.g. for a new connection). */
  reset(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.queued = 0;
    this.consumed = 0;
    this.failure = undefined;
  }

  /** {@link check} in the fast path: frames found so far are cut before a failure is raised. */
  private checkCut(length: number, frames: Uint8Array[], chunk: Uint8Array, ends: number[]): void {
    if (length >= OFP_HEADER_SIZE && length <= this.maxMessageSize) return;
    cut(chunk, ends, frames);
    this.check(length, frames);
  }

  private check(length: number, frames: Uint8Array[]): void {
    if (length >= OFP_HEADER_SIZE && length <= this.maxMessageSize) return;
    const why =
      length < OFP_HEADER_SIZE
        ? `too-short ofp_header: length ${length} < ${OFP_HEADER_SIZE}`
        : `message length ${length} exceeds maximum ${this.maxMessageSize}`;
    this.failure = new FramingError(why, this.consumed + 2, frames);
    throw this.failure;
  }

  /** The byte `index` positions after the first queued byte (index < 8 here). */
  private peekByte(index: number): number {
    let i = this.head;
    let at = this.offset + index;
    while (at >= this.chunks[i]!.byteLength) {
      at -= this.chunks[i]!.byteLength;
      i++;
    }
    return this.chunks[i]![at]!;
  }

  /** Removes the first `size` queued bytes into a fresh array. */
  private take(size: number): Uint8Array {
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[this.head]!;
      const n = Math.min(size - filled, chunk.byteLength - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.offset += n;
      if (this.offset === chunk.byteLength) {
        this.head++;
        this.offset = 0;
      }
    }
    this.queued -= size;
    this.consumed += size;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AT) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}

/**
 * `chunk[start, end)` in a new ArrayBuffer. Not `chunk.slice()`: on a Node
 * Buffer (what sockets deliver) `slice` is a view, and the frames would
 * alias the caller's reusable buffer.
 */
function copyBytes(chunk: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(chunk.subarray(start, end));
  return out;
}

/** Copies `chunk[0 .. last end)` once and appends a view per frame ending at `ends`. */
function cut(chunk: Uint8Array, ends: readonly number[], frames: Uint8Array[]): void {
  if (ends.length === 0) return;
  const copy = copyBytes(chunk, 0, ends[ends.length - 1]!);
  let start = 0;
  for (const end of ends) {
    frames.push(copy.subarray(start, end));
    start = end;
  }
}
