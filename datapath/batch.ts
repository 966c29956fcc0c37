/**
 * A batch of received frames for {@link Datapath.receiveBatch} (OVS
 * `dp_packet_batch`, NETDEV_MAX_BURST = 32; performance.md §6.4: parse all,
 * hash all, probe all, act all).
 *
 * Structure of arrays in preallocated typed arrays, filled by the I/O layer
 * and reused: frame `i` is `data[off[i] .. off[i] + len[i])`, received on
 * OpenFlow port `port[i]`. Each frame has a fixed slot of {@link slotSize}
 * bytes and starts {@link headroom} bytes in, so that pushing a VLAN tag can
 * move the MAC addresses into the headroom instead of the payload (the
 * datapath processes frames in place: `off`/`len` change when a tag is
 * pushed or popped, and the bytes are the frame as last transmitted).
 *
 * The per-packet scratch the datapath needs (keys, megaflows found) lives
 * here too, so a batch holds everything one step touches.
 */
import { FK } from "../codec/packet/flow-key.js";
import type { Megaflow } from "./megaflow.js";

/** Default frames per batch. */
export const BATCH_SIZE = 64;
/** Default bytes per slot: a 1,518-byte frame, the headroom and two tags of tailroom. */
export const BATCH_SLOT = 2048;
/** Default bytes in front of each frame. */
export const BATCH_HEADROOM = 64;

/** Words per key in {@link PacketBatch.keys}. */
export const KEY_WORDS = FK.SIZE;

export class PacketBatch {
  readonly capacity: number;
  readonly slotSize: number;
  readonly headroom: number;
  readonly data: Uint8Array;
  /** The same bytes as a DataView (big-endian header reads). */
  readonly view: DataView;
  readonly off: Int32Array;
  readonly len: Int32Array;
  readonly port: Int32Array;
  count = 0;

  // ---- datapath scratch ----
  /** @internal Parsed keys, KEY_WORDS per frame (packet section kept zero outside the fast words). */
  readonly keys: Int32Array;
  /** @internal Parse status per frame (-1: dropped before the pipeline). */
  readonly status: Int32Array;
  /** @internal 1 when the full parser wrote the key (its other words must be cleared before reuse). */
  readonly dirty: Uint8Array;
  /** @internal The megaflow found per frame, or null. */
  readonly found: (Megaflow | null)[];

  constructor(capacity = BATCH_SIZE, slotSize = BATCH_SLOT, headroom = BATCH_HEADROOM) {
    if (headroom >= slotSize) throw new RangeError("headroom must be smaller than the slot");
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.headroom = headroom;
    this.data = new Uint8Array(capacity * slotSize);
    this.view = new DataView(this.data.buffer);
    this.off = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.port = new Int32Array(capacity);
    this.keys = new Int32Array(capacity * KEY_WORDS);
    this.status = new Int32Array(capacity);
    this.dirty = new Uint8Array(capacity);
    this.found = new Array<Megaflow | null>(capacity).fill(null);
  }

  /** Largest frame a slot holds. */
  get maxFrame(): number {
    return this.slotSize - this.headroom;
  }

  clear(): void {
    this.count = 0;
  }

  /** Copies `frame` (received on `port`) into the next slot; false when the batch is full or the frame too big. */
  add(port: number, frame: Uint8Array, ofs = 0, len = frame.length - ofs): boolean {
    const i = this.count;
    if (i >= this.capacity || len > this.maxFrame || len < 0) return false;
    const o = i * this.slotSize + this.headroom;
    // A whole view is copied as is (a memcpy); a range of a larger buffer needs a view.
    this.data.set(ofs === 0 && len === frame.length ? frame : frame.subarray(ofs, ofs + len), o);
    this.off[i] = o;
    this.len[i] = len;
    this.port[i] = port;
    this.count = i + 1;
    return true;
  }

  /** The frame `i` as it is now (a copy; for tests and the slow path). */
  frame(i: number): Uint8Array {
    const o = this.off[i]!;
    return this.data.slice(o, o + this.len[i]!);
  }
}
