/**
 * CompiledMatch: a match as (word, mask, value) triples over {@link FlowKey} words.
 *
 * This is the one representation the classifier understands. A packet key
 * matches when, for every listed word `i`, `(key.w[words[i]] & masks[i]) ===
 * values[i]`. Words whose mask is 0 are simply absent (wildcarded), so the
 * list is sparse and sorted by word index; two matches with the same `words`
 * and `masks` have the same *mask* and share a classifier subtable (OVS
 * `minimask`).
 *
 * All three arrays hold int32 (a mask of 0xffffffff is stored as -1): the
 * lookup loop computes `w[j] & mask`, which V8 produces as an int32, and keeps
 * every comparison in small integers (performance.md §3.5: staying in int32
 * took the prototype from 50 to 34 ns).
 *
 * Build one with {@link MatchBuilder} (field by field, later writes to the
 * same bits win, as OVS `mf_set` does) or from an OpenFlow match with
 * `compileMatch` (match-compile.ts).
 */
import { FK } from "../../codec/packet/flow-key.js";
import type { FlowKey } from "../../codec/packet/flow-key.js";

export interface CompiledMatch {
  /** FlowKey word indexes with a nonzero mask, ascending (shared by all matches with this mask: do not mutate). */
  readonly words: Int32Array;
  /** Mask per listed word (int32; shared like `words`). */
  readonly masks: Int32Array;
  /** `value & mask` per listed word (int32). */
  readonly values: Int32Array;
  /**
   * Identity of the mask ("31:ffff,36:ffffff00"): equal strings ⇔ equal
   * (words, masks). Computed once, used by insert/remove to find the
   * subtable, never on the lookup path.
   */
  readonly maskKey: string;
}

/** Name of each FlowKey word, for readable diagnostics and generated code ("NW_SRC", "REG0+3"). */
export const WORD_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (let i = 0; i < FK.SIZE; i++) names.push(`w${i}`);
  // Longest spans first so that a multi-word field's later words get a "+k" name.
  const entries = Object.entries(FK).filter(([n]) => n !== "PACKET_START" && n !== "SIZE");
  entries.sort((a, b) => a[1] - b[1]);
  for (let e = 0; e < entries.length; e++) {
    const [name, start] = entries[e]!;
    const end = e + 1 < entries.length ? entries[e + 1]![1] : FK.SIZE;
    for (let i = start; i < end; i++) names[i] = i === start ? name : `${name}+${i - start}`;
  }
  return names;
})();

function hex32(v: number): string {
  return (v >>> 0).toString(16);
}

function maskKeyOf(words: Int32Array, masks: Int32Array): string {
  const parts: string[] = [];
  for (let i = 0; i < words.length; i++) parts.push(`${words[i]!}:${hex32(masks[i]!)}`);
  return parts.join(",");
}

/** The shared part of every match with one mask: word list, masks and identity string. */
interface MaskShape {
  readonly words: Int32Array;
  readonly masks: Int32Array;
  readonly maskKey: string;
}

/**
 * Interned mask shapes: a flow table has few distinct masks and many rules,
 * so every match with the same mask shares one `words`/`masks` pair and one
 * flat `maskKey` string (memory: 100,000 flows cost one small values array
 * each, not three arrays and a string; and Map lookups by `maskKey` hit a
 * cached string hash). Bounded: cleared if a pathological rule set ever
 * creates this many masks (existing matches keep their shapes).
 */
const shapes = new Map<string, MaskShape>();
const SHAPE_LIMIT = 1 << 16;

function internShape(words: Int32Array, masks: Int32Array): MaskShape {
  const key = maskKeyOf(words, masks);
  let shape = shapes.get(key);
  if (shape === undefined) {
    if (shapes.size >= SHAPE_LIMIT) shapes.clear();
    shape = { words, masks, maskKey: key };
    shapes.set(key, shape);
  }
  return shape;
}

/** A match from parallel (word, mask, value) lists; values are masked, zero masks dropped. */
export function compiledMatchFromWords(
  words: ArrayLike<number>,
  masks: ArrayLike<number>,
  values: ArrayLike<number>,
): CompiledMatch {
  const b = new MatchBuilder();
  for (let i = 0; i < words.length; i++) b.set(words[i]!, values[i]!, masks[i]!);
  return b.finish();
}

/**
 * Accumulates (mask, value) per key word over the dense FK index space, then
 * packs the sparse match. Reusable: `finish()` resets it.
 */
export class MatchBuilder {
  private readonly masks = new Int32Array(FK.SIZE);
  private readonly values = new Int32Array(FK.SIZE);

  /**
   * Constrains `mask` bits of `word` to `value`. Bits already constrained are
   * overwritten (OVS `mf_set_value` semantics: the later field wins).
   */
  set(word: number, value: number, mask: number): this {
    if (!Number.isInteger(word) || word < 0 || word >= FK.SIZE) {
      throw new RangeError(`FlowKey word ${word} out of range`);
    }
    const m = mask | 0;
    this.masks[word] = this.masks[word]! | m;
    this.values[word] = (this.values[word]! & ~m) | (value & m);
    return this;
  }

  /** Current (mask, value) of a word, for prerequisite checks. */
  maskOf(word: number): number {
    return this.masks[word]!;
  }
  valueOf(word: number): number {
    return this.values[word]!;
  }

  /** Packs the constrained words into a CompiledMatch and clears the builder. */
  finish(): CompiledMatch {
    let n = 0;
    for (let i = 0; i < FK.SIZE; i++) if (this.masks[i] !== 0) n++;
    const words = new Int32Array(n);
    const masks = new Int32Array(n);
    const values = new Int32Array(n);
    let j = 0;
    for (let i = 0; i < FK.SIZE; i++) {
      const m = this.masks[i]!;
      if (m === 0) continue;
      words[j] = i;
      masks[j] = m;
      values[j] = this.values[i]! & m;
      j++;
    }
    this.masks.fill(0);
    this.values.fill(0);
    const shape = internShape(words, masks);
    return { words: shape.words, masks: shape.masks, values, maskKey: shape.maskKey };
  }
}

/** The match that matches every packet. */
export const CATCH_ALL: CompiledMatch = new MatchBuilder().finish();

/** True when `w` (FlowKey words) satisfies the match. The slow, obviously-correct test. */
export function matchesWords(m: CompiledMatch, w: Uint32Array): boolean {
  const words = m.words;
  for (let i = 0; i < words.length; i++) {
    if ((w[words[i]!]! & m.masks[i]!) !== m.values[i]!) return false;
  }
  return true;
}

export function matchesKey(m: CompiledMatch, key: FlowKey): boolean {
  return matchesWords(m, key.w);
}

/** Same words, masks and values. */
export function matchEquals(a: CompiledMatch, b: CompiledMatch): boolean {
  if (a.maskKey !== b.maskKey) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}

/** Readable form for test failures and logs: "ETH_TYPE=0x800 NW_SRC=0xc0a80000/0xffffff00". */
export function formatCompiledMatch(m: CompiledMatch): string {
  if (m.words.length === 0) return "(catch-all)";
  const parts: string[] = [];
  for (let i = 0; i < m.words.length; i++) {
    const mask = m.masks[i]!;
    const name = WORD_NAMES[m.words[i]!]!;
    const v = `0x${hex32(m.values[i]!)}`;
    parts.push(mask === -1 ? `${name}=${v}` : `${name}=${v}/0x${hex32(mask)}`);
  }
  return parts.join(" ");
}
