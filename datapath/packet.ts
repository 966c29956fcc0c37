/**
 * Packet buffers: preallocated, reused, never grown on the fast path.
 *
 * A {@link PacketBuffer} holds one frame at the start of a fixed-capacity
 * byte array (`buf[0..len)`). Header pushes and pops move the tail in place
 * (`copyWithin`, a memmove), so a frame keeps its buffer for its whole walk.
 *
 * `parseFrame` and the rewrite helpers of codec/packet want a view whose
 * length *is* the frame length. Creating a subarray per packet would allocate,
 * so each buffer caches one view per length it has seen (`frame()`): in a
 * steady state (a bounded set of frame sizes) no view is created.
 *
 * Contract (gopacket style): a view returned by `frame()` aliases the buffer
 * and is only meaningful until the next change of `len` or the next `load`.
 */

/** Default capacity: a 9000-byte jumbo frame, two VLAN tags and a VXLAN encapsulation fit. */
export const PACKET_CAPACITY = 9216;

export class PacketBuffer {
  readonly buf: Uint8Array;
  len = 0;
  private readonly views: (Uint8Array | undefined)[] = [];

  constructor(capacity = PACKET_CAPACITY) {
    this.buf = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** The frame as an exact-length view (cached per length, see the file comment). */
  frame(): Uint8Array {
    const n = this.len;
    let v = this.views[n];
    if (v === undefined) {
      v = this.buf.subarray(0, n);
      this.views[n] = v;
    }
    return v;
  }

  /** Copies `src[ofs..ofs+len)` in; false (nothing copied) when it does not fit. */
  load(src: Uint8Array, ofs = 0, len = src.length - ofs): boolean {
    if (len > this.buf.length || len < 0) return false;
    // A whole-array set needs no view; a slice of a larger buffer does.
    this.buf.set(ofs === 0 && len === src.length ? src : src.subarray(ofs, ofs + len), 0);
    this.len = len;
    return true;
  }

  copyFrom(other: PacketBuffer): void {
    this.buf.set(other.frame(), 0);
    this.len = other.len;
  }

  /** Opens `n` bytes at `at` (moving the tail right); false when the capacity is exceeded. */
  insert(at: number, n: number): boolean {
    if (this.len + n > this.buf.length || at > this.len) return false;
    this.buf.copyWithin(at + n, at, this.len);
    this.len += n;
    return true;
  }

  /** Removes `n` bytes at `at` (moving the tail left). */
  remove(at: number, n: number): void {
    if (at + n > this.len) return;
    this.buf.copyWithin(at, at + n, this.len);
    this.len -= n;
  }

  /** A fresh copy of the frame (for tests, packet-ins and traces; allocates). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * A fixed pool of packet buffers. `take` never allocates once the pool is
 * warm; when the pool is empty it returns null and the caller drops (and
 * counts) the packet, as a NIC ring does when it is full.
 */
export class BufferPool {
  private readonly free: PacketBuffer[] = [];
  readonly size: number;

  constructor(size: number, capacity = PACKET_CAPACITY) {
    this.size = size;
    for (let i = 0; i < size; i++) this.free.push(new PacketBuffer(capacity));
  }

  get available(): number {
    return this.free.length;
  }

  take(): PacketBuffer | null {
    return this.free.pop() ?? null;
  }

  give(b: PacketBuffer): void {
    b.len = 0;
    this.free.push(b);
  }
}
