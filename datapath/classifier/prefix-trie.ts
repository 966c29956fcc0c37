/**
 * Prefix tries over 32-bit address fields (OVS lib/classifier.c "prefix
 * tracking", `struct cls_trie`; performance.md §1.1).
 *
 * The classifier keeps one trie per field in {@link TRIE_FIELDS} (OVS's
 * Flow_Table default `prefixes=ip_dst,ip_src`). Every rule whose mask on the
 * field is a CIDR prefix /L (L ≥ 1) adds its L-bit prefix. A lookup walks the
 * packet's address down the trie once and learns
 *  - `plens`: the set of prefix lengths L for which *some* rule's /L prefix
 *    equals the address's first L bits (bit L-1 set for length L), and
 *  - `maskbits`: how many leading address bits the walk examined.
 * A subtable whose mask has /L on the field, with L not in `plens`, holds no
 * rule that can match: it is skipped without hashing anything. Whether L is
 * in `plens` depends only on the address's first L bits, and the walk decided
 * it looking at `maskbits` bits, so a megaflow needs only the first
 * min(L, maskbits) bits of the field (that is what keeps OVS's megaflows
 * wide on routing tables).
 *
 * Path-compressed binary trie of plain nodes: writers allocate, a lookup
 * allocates nothing and returns its results in fields of the trie.
 */
import { FK } from "../../codec/packet/flow-key.js";

/** FlowKey words with a prefix trie, in the order tries are checked. */
export const TRIE_FIELDS = [FK.NW_DST, FK.NW_SRC] as const;

/** The prefix length of a 32-bit mask (0 for 0), or -1 when it is not a CIDR prefix. */
export function prefixLength(mask: number): number {
  const m = mask | 0;
  if (m === 0) return 0;
  const len = Math.clz32(~m);
  return len < 32 && m << len !== 0 ? -1 : len;
}

/** The mask of the first `len` bits (0 ≤ len ≤ 32), as int32. */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (-1 << (32 - len)) | 0;
}

/** Bit `i` (0 = most significant) of `v`. */
function bitAt(v: number, i: number): number {
  return (v >>> (31 - i)) & 1;
}

/** Bits [from, to) of a 32-bit word (0 = most significant), as a mask. */
function rangeMask(from: number, to: number): number {
  return prefixMask(to) & ~prefixMask(from);
}

class TrieNode {
  /** The first `end` bits of the prefix (lower bits zero). */
  value: number;
  /** Prefix length at the end of this node; it starts where its parent ends. */
  end: number;
  /** Rules whose prefix is exactly this node's (first `end` bits, /end). */
  count: number;
  zero: TrieNode | null = null;
  one: TrieNode | null = null;

  constructor(value: number, end: number, count: number) {
    this.value = value;
    this.end = end;
    this.count = count;
  }

  child(bit: number): TrieNode | null {
    return bit === 0 ? this.zero : this.one;
  }

  setChild(bit: number, n: TrieNode | null): void {
    if (bit === 0) this.zero = n;
    else this.one = n;
  }
}

export class PrefixTrie {
  private readonly root = new TrieNode(0, 0, 0);
  /** Scratch path for {@link remove} (no allocation per call). */
  private readonly path: TrieNode[] = [];
  /** Prefixes held (with multiplicity). */
  size = 0;
  /** Result of the last {@link lookup}: matched prefix lengths (bit L-1 for /L). */
  plens = 0;
  /** Result of the last {@link lookup}: leading address bits examined. */
  maskbits = 0;

  /** Adds one /`len` prefix of `value` (1 ≤ len ≤ 32; bits past `len` are ignored). */
  insert(value: number, len: number): void {
    const v = value & prefixMask(len);
    let n = this.root;
    for (;;) {
      if (n.end === len) {
        n.count++;
        this.size++;
        return;
      }
      const bit = bitAt(v, n.end);
      const c = n.child(bit);
      if (c === null) {
        n.setChild(bit, new TrieNode(v, len, 1));
        this.size++;
        return;
      }
      const lim = Math.min(c.end, len);
      const diff = (v ^ c.value) & rangeMask(n.end, lim);
      const d = diff === 0 ? lim : Math.clz32(diff);
      if (d < c.end) {
        // Split c at bit d: the shared part becomes a node of its own.
        const m = new TrieNode(c.value & prefixMask(d), d, 0);
        m.setChild(bitAt(c.value, d), c);
        n.setChild(bit, m);
        n = m;
      } else {
        n = c;
      }
    }
  }

  /** Removes one /`len` prefix of `value`; false when it is not held. */
  remove(value: number, len: number): boolean {
    const v = value & prefixMask(len);
    const path = this.path;
    path.length = 0;
    let n = this.root;
    for (;;) {
      if (n.end === len) break;
      const c = n.child(bitAt(v, n.end));
      if (c === null || c.end > len || ((v ^ c.value) & prefixMask(c.end)) !== 0) return false;
      path.push(n);
      n = c;
    }
    if (n.count === 0) return false;
    n.count--;
    this.size--;
    // Tidy up: drop empty leaves, and fold empty single-child nodes into their child.
    while (n !== this.root && n.count === 0) {
      const parent = path.pop()!;
      const bit = bitAt(n.value, parent.end);
      if (n.zero === null && n.one === null) {
        parent.setChild(bit, null);
        n = parent;
        continue;
      }
      if (n.zero === null || n.one === null) parent.setChild(bit, n.zero ?? n.one);
      break;
    }
    return true;
  }

  /** Walks `addr`; sets {@link plens} and {@link maskbits}. */
  lookup(addr: number): void {
    let n = this.root;
    let plens = 0;
    for (;;) {
      if (n.count > 0) plens |= 1 << (n.end - 1);
      if (n.end === 32) {
        this.maskbits = 32;
        break;
      }
      const c = n.child(bitAt(addr, n.end));
      if (c === null) {
        // The next bit chose an empty branch; a leaf needs no further bit.
        this.maskbits = n.zero === null && n.one === null ? n.end : n.end + 1;
        break;
      }
      const diff = (addr ^ c.value) & rangeMask(n.end, c.end);
      if (diff !== 0) {
        this.maskbits = Math.clz32(diff) + 1;
        break;
      }
      n = c;
    }
    this.plens = plens;
  }
}
