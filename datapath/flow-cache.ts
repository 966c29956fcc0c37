/**
 * The exact-match cache in front of the pipeline (OVS's EMC, performance.md
 * §1.2; style.md §2.5): the whole parsed key of a packet (every FlowKey word,
 * in_port and tunnel metadata included) maps to what the walk did with it,
 * recorded as OVS records datapath actions — for each output, the header
 * fields that changed since the previous output, then the port. A hit
 * replays that list on the new frame (same headers, any payload) without
 * touching a flow table, and credits the same flow, table and port counters
 * the walk would have.
 *
 * Determinism. A walk is a function of the key and the tables, except when it
 * learns (learn(), NORMAL's MAC table), talks to the controller, or uses
 * groups (liveness, bucket counters): such walks are not cached. Every flow,
 * group or port change in any bridge bumps `Datapath.version`; an entry made
 * under another version is a miss ("invalidated on any flow-mod").
 *
 * Layout: `SIZE` slots, a power of two (`SHIFT`/`MASK` derived from one
 * constant, as OVS `dpif-netdev-dfc.h`); each slot holds its key words in one
 * shared Uint32Array slab, so a probe is a hash, a word compare and no
 * allocation. Inserting (on a miss) allocates the recorded program.
 */
import { FK, type FlowKey } from "../codec/packet/flow-key.js";
import type { FlowEntry } from "./flow-entry.js";
import type { FlowTable } from "./flow-table.js";
import type { Bridge } from "./bridge.js";
import type { Port } from "./ports.js";
import type { StagedTunnel } from "./pipeline.js";
import type { RewriteClass } from "./actions/rewrite.js";

export const EMC_SHIFT = 13;
export const EMC_SIZE = 1 << EMC_SHIFT;
export const EMC_MASK = EMC_SIZE - 1;

/** One output of a recorded walk: header changes since the previous output, then where to send. */
export interface CachedOutput {
  /** Key words to set (word, value) before this output. */
  readonly words: Int32Array;
  /** Headers to resync after setting the words (VLAN first when it changed). */
  readonly classes: readonly RewriteClass[];
  readonly bridge: Bridge;
  readonly port: Port;
  readonly tunnel: StagedTunnel | null;
}

/** What a cached walk does. */
export interface CachedWalk {
  readonly version: number;
  readonly outputs: readonly CachedOutput[];
  /** Flow entries hit, with the frame-length change at the time of the hit (push_vlan adds 4). */
  readonly hits: readonly FlowEntry[];
  readonly hitLenDelta: Int32Array;
  /** Tables looked up, and whether each lookup matched. */
  readonly tables: readonly FlowTable[];
  readonly tableMatched: Uint8Array;
}

/**
 * Hash of the key words (multiplicative, int32 only: `w` is an Int32Array
 * view of the key). Four independent lanes, so the CPU overlaps the
 * multiplications instead of waiting on one 73-step chain.
 */
export function hashKey(w: Int32Array): number {
  let a = 0x5bd1e995 | 0;
  let b = 0x27d4eb2f | 0;
  let c = 0x165667b1 | 0;
  let d = 0x61c88647 | 0;
  const n = FK.SIZE & ~3;
  for (let i = 0; i < n; i += 4) {
    a = Math.imul(a ^ w[i]!, 0x85ebca6b);
    b = Math.imul(b ^ w[i + 1]!, 0xc2b2ae35);
    c = Math.imul(c ^ w[i + 2]!, 0x85ebca6b);
    d = Math.imul(d ^ w[i + 3]!, 0xc2b2ae35);
  }
  for (let i = n; i < FK.SIZE; i++) a = Math.imul(a ^ w[i]!, 0x85ebca6b);
  let h = a ^ Math.imul(b, 3) ^ Math.imul(c, 5) ^ Math.imul(d, 7);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return h ^ (h >>> 15);
}

/** An int32 view of a key's words (comparisons and hashing stay in small integers). */
function int32View(w: Uint32Array): Int32Array {
  return new Int32Array(w.buffer, w.byteOffset, w.length);
}

/**
 * Two-way: a key may live in either of two slots taken from different bits
 * of its hash (OVS's EMC probes two segments of the hash the same way).
 */
export class ExactMatchCache {
  private readonly keys = new Int32Array(EMC_SIZE * FK.SIZE);
  private readonly walks: (CachedWalk | null)[] = new Array<CachedWalk | null>(EMC_SIZE).fill(null);
  /** The int32 view of the last key object seen (the walk state reuses one key). */
  private viewOf: Uint32Array | null = null;
  private view: Int32Array = new Int32Array(0);
  hits = 0;
  misses = 0;
  inserts = 0;

  private int32(w: Uint32Array): Int32Array {
    if (this.viewOf !== w) {
      this.viewOf = w;
      this.view = int32View(w);
    }
    return this.view;
  }

  private matches(slot: number, w: Int32Array, version: number): boolean {
    const walk = this.walks[slot]!;
    if (walk === null || walk.version !== version) return false;
    const keys = this.keys;
    const base = slot * FK.SIZE;
    for (let i = 0; i < FK.SIZE; i++) if (keys[base + i] !== w[i]) return false;
    return true;
  }

  /** The walk cached for `key` under `version`, or null. */
  lookup(key: FlowKey, version: number): CachedWalk | null {
    const w = this.int32(key.w);
    const h = hashKey(w);
    const s1 = h & EMC_MASK;
    if (this.matches(s1, w, version)) {
      this.hits++;
      return this.walks[s1]!;
    }
    const s2 = (h >>> EMC_SHIFT) & EMC_MASK;
    if (this.matches(s2, w, version)) {
      this.hits++;
      return this.walks[s2]!;
    }
    this.misses++;
    return null;
  }

  /** Caches `walk` for the key words `words` (the key as it entered the pipeline). */
  insert(words: Uint32Array, walk: CachedWalk): void {
    const w = int32View(words);
    const h = hashKey(w);
    const s1 = h & EMC_MASK;
    const s2 = (h >>> EMC_SHIFT) & EMC_MASK;
    const a = this.walks[s1]!;
    const b = this.walks[s2]!;
    // Prefer an empty or stale slot; otherwise evict one, chosen by a hash bit.
    const slot =
      a === null || a.version !== walk.version
        ? s1
        : b === null || b.version !== walk.version
          ? s2
          : (h >>> 30) & 1
            ? s1
            : s2;
    this.keys.set(w, slot * FK.SIZE);
    this.walks[slot] = walk;
    this.inserts++;
  }

  clear(): void {
    this.walks.fill(null);
  }
}
