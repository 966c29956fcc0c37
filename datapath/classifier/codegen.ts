/**
 * Generated lookup functions: the subtable walk unrolled into straight-line
 * JavaScript, one block per subtable, with word indexes, masks and hash
 * multipliers as literals (performance.md §3.3 and §6.1: 2–2.7× over the
 * data-driven loop, because V8 then sees constant indexes, no inner loops and
 * one monomorphic shape per block).
 *
 * The source depends only on the subtables' masks, their order and the
 * options, never on the rules or the table capacities: those arrive as
 * closure parameters (`P0`/`T0`/`D0`/`H0`/`M0`...), bound when the compiled
 * state is rebuilt (a subtable's max priority or arrays changed); rule churn
 * inside existing subtables needs neither new code nor a rebind.
 *
 * Every bind compiles its own function (`new Function`, tens of
 * microseconds, only on a rebuild). Then V8 sees exactly one closure per
 * function and specialises the optimised code to it: the bound typed arrays,
 * capacities and max priorities become constants (no loads of array base and
 * length, bounds checks against literals). Reusing one compiled factory for
 * several binds was measured 10–15% slower at 4–20 masks, because a function
 * with several closures is compiled for any of them.
 *
 * Readability is part of the contract: `generatedSource()` on a classifier
 * returns what runs, with the fields of each subtable named in a comment.
 */
import { WORD_NAMES } from "./compiled-match.js";
import { HASH_FINAL_MULT, HASH_MULT } from "./hash.js";
import type { ClsRule } from "./rule.js";
import { type PrefixTrie, TRIE_FIELDS, prefixMask } from "./prefix-trie.js";
import { STAGE_NAMES, stageOf } from "./stages.js";
import { SLOT_KEY, SLOT_PRIORITY, type Subtable } from "./subtable.js";

/** A generated lookup: FlowKey words → best rule or null. */
export type LookupFn<P> = (w: Uint32Array, o: number) => ClsRule<P> | null;

/** Continues the walk at the first subtable not unrolled. */
export type TailFn<P> = (w: Uint32Array, o: number, best: ClsRule<P> | null) => ClsRule<P> | null;

export interface CodegenOptions {
  /** Check the stage filters (staged lookup) in the generated walk. */
  readonly staged: boolean;
  /**
   * Generate the megaflow variant `(w, o, wc) => rule`: staged, with prefix
   * trie checks, OR-ing the consulted bits into `wc` (Classifier.lookupWithWildcards).
   */
  readonly wildcards: boolean;
}

/** A generated lookup that also reports the consulted key bits into `wc`. */
export type WildcardLookupFn<P> = (w: Uint32Array, o: number, wc: Uint32Array) => ClsRule<P> | null;

/** Continues a wildcards walk at the first subtable not unrolled. */
export type WildcardTailFn<P> = (
  w: Uint32Array,
  o: number,
  wc: Uint32Array,
  best: ClsRule<P> | null,
) => ClsRule<P> | null;

type Factory = (...args: unknown[]) => unknown;

/**
 * Sequence number appended (as a comment) to every compiled source, so that
 * V8's source-keyed compilation cache never hands two binds the same
 * function: see the file comment.
 */
let bindSequence = 0;

/** Statements per hash-sum expression (keeps each `(a + b + ...) | 0` well inside int32 sums V8 lowers to word32 adds). */
const TERMS_PER_SUM = 4;

function int32Literal(v: number): string {
  return String(v | 0);
}

/** Local variable holding key word `word` (loaded once at the top of the function). */
function wordVar(word: number): string {
  return `w${word}`;
}

/** Masked-word expression for a pair. */
function maskedExpr(word: number, mask: number): string {
  return (mask | 0) === -1 ? wordVar(word) : `${wordVar(word)} & ${int32Literal(mask)}`;
}

/** Hash term of a pair (the multiplier belongs to the word, hash.ts). */
function productExpr(masked: string, word: number): string {
  return `Math.imul(${masked}, ${int32Literal(HASH_MULT[word]!)})`;
}

/** Statements adding `terms` to the running sum `h` (`start`: the first ones of the key set it). */
function sumLines(terms: readonly string[], start: boolean, indent: string): string[] {
  const lines: string[] = [];
  for (let j = 0; j < terms.length; j += TERMS_PER_SUM) {
    const chunk = terms.slice(j, j + TERMS_PER_SUM).join(" + ");
    lines.push(
      start && j === 0 ? `${indent}h = (${chunk}) | 0;` : `${indent}h = (h + ${chunk}) | 0;`,
    );
  }
  return lines;
}

/** The finaliser of hash.ts, from the sum `src` into `dst`. */
function finishLines(src: string, dst: string, indent: string): string[] {
  return [
    `${indent}${dst} = ${src} ^ (${src} >>> 16);`,
    `${indent}${dst} = Math.imul(${dst}, ${int32Literal(HASH_FINAL_MULT)});`,
    `${indent}${dst} ^= ${dst} >>> 16;`,
  ];
}

/** `wc[word] |= mask` for the mask words `[0, upTo)` of a subtable (wildcards mode). */
function foldLines<P>(s: Subtable<P>, upTo: number, indent: string): string[] {
  const out: string[] = [];
  for (let j = 0; j < upTo; j++) {
    const w = s.words[j]!;
    out.push(`${indent}wc[${w}] |= ${int32Literal(s.masks[j]!)};`);
  }
  return out;
}

/** Trie checks of subtable `k` (wildcards mode): skip it when no rule of its prefix length can match. */
function trieLines<P>(k: number, s: Subtable<P>, indent: string): string[] {
  const out: string[] = [];
  for (let f = 0; f < TRIE_FIELDS.length; f++) {
    const len = s.triePlens[f]!;
    if (len <= 0) continue;
    const word = TRIE_FIELDS[f]!;
    out.push(
      `${indent}// ${WORD_NAMES[word]!} trie: is any rule's /${len} prefix equal to the address's?`,
    );
    out.push(
      `${indent}if (tl${f} === 0) { TR${f}.lookup(w[o + ${word}]); pl${f} = TR${f}.plens; mb${f} = TR${f}.maskbits; tl${f} = 1; }`,
    );
    out.push(`${indent}if ((pl${f} & ${int32Literal(1 << (len - 1))}) === 0) {`);
    // Only the bits the trie walk looked at (at most the prefix length) decided this.
    out.push(
      `${indent}  wc[${word}] |= mb${f} >= ${len} ? ${int32Literal(prefixMask(len))} : mb${f} === 0 ? 0 : -1 << (32 - mb${f});`,
    );
    out.push(`${indent}  break s${k};`);
    out.push(`${indent}}`);
  }
  return out;
}

/**
 * The block for subtable `k`: hash the masked lanes (checking stage filters
 * when staged), probe, compare. In wildcards mode, also the trie checks and
 * the `wc` updates: at a stage exit the words of the stages looked at, after
 * a full probe the whole mask.
 */
function subtableBlock<P>(k: number, s: Subtable<P>, opts: CodegenOptions): string {
  const { words, masks, stride } = s;
  const n = words.length;
  const wild = opts.wildcards;
  const staged = opts.staged || wild;
  const fields: string[] = [];
  for (let j = 0; j < n; j++) {
    const m = masks[j]! | 0;
    fields.push(
      m === -1 ? WORD_NAMES[words[j]!]! : `${WORD_NAMES[words[j]!]!}/0x${(m >>> 0).toString(16)}`,
    );
  }
  const ind = "    ";
  const lines: string[] = [];
  lines.push(`  // subtable ${k}: ${n === 0 ? "(catch-all)" : fields.join(" ")}`);
  lines.push(`  if (P${k} <= bestPri) return best;`);
  lines.push(`  s${k}: {`);
  if (wild) lines.push(...trieLines(k, s, ind));
  // Key lanes (subtable.ts): one word, or two narrow words packed as (a << 16) | b.
  const nl = s.nLanes;
  const keyVars: string[] = [];
  const terms: string[] = [];
  for (let l = 0; l < nl; l++) {
    const a = s.laneHi[l]!;
    const bIdx = s.laneLo[l]!;
    const hi = maskedExpr(words[a]!, masks[a]!);
    const expr = bIdx < 0 ? hi : `((${hi}) << 16) | (${maskedExpr(words[bIdx]!, masks[bIdx]!)})`;
    lines.push(`${ind}const k${l} = ${expr};`);
    keyVars.push(`k${l}`);
    terms.push(productExpr(`k${l}`, words[a]!));
  }
  // The hash sum, stage by stage; with staged lookup, a filter check after each intermediate stage.
  const ends = staged ? Array.from(s.stageLaneEnds) : [];
  ends.push(nl);
  let from = 0;
  ends.forEach((end, si) => {
    lines.push(...sumLines(terms.slice(from, end), from === 0, ind));
    if (end < nl) {
      lines.push(
        `${ind}// ${STAGE_NAMES[stageOf(words[s.stageEnds[si]! - 1]!)]!} stage: leave if no entry has this partial key`,
      );
      lines.push(...finishLines("h", "f", ind));
      const test = `((F${k}_${si}[(f >>> 5) & G${k}_${si}] >>> f) & 1) === 0`;
      if (wild) {
        lines.push(`${ind}if (${test}) {`);
        lines.push(...foldLines(s, s.stageEnds[si]!, `${ind}  `));
        lines.push(`${ind}  break s${k};`);
        lines.push(`${ind}}`);
      } else {
        lines.push(`${ind}if (${test}) break s${k};`);
      }
    }
    from = end;
  });
  if (wild) lines.push(...foldLines(s, n, ind));
  if (n === 0) lines.push(`${ind}h = 0;`);
  lines.push(...finishLines("h", "h", ind));
  lines.push(`${ind}tag = h | 1;`);
  lines.push(`${ind}i = (h >>> 1) & M${k};`);
  // Slot layout (subtable.ts): tag in T; [head priority, key lanes...] in D, `stride` int32s.
  lines.push(`${ind}while ((t = T${k}[i]) !== 0) {`);
  lines.push(`${ind}  if (t === tag) {`);
  lines.push(`${ind}    b = i * ${stride};`);
  const cmp: string[] = [];
  for (let l = 0; l < nl; l++) cmp.push(`D${k}[b + ${SLOT_KEY + l}] === ${keyVars[l]!}`);
  lines.push(`${ind}    if (${cmp.length === 0 ? "true" : cmp.join(" && ")}) {`);
  lines.push(
    `${ind}      if (D${k}[b + ${SLOT_PRIORITY}] > bestPri) { best = H${k}[i]; bestPri = D${k}[b + ${SLOT_PRIORITY}]; }`,
  );
  lines.push(`${ind}      break;`);
  lines.push(`${ind}    }`);
  lines.push(`${ind}  }`);
  lines.push(`${ind}  i = (i + 1) & M${k};`);
  lines.push(`${ind}}`);
  lines.push(`  }`);
  return lines.join("\n");
}

/** Parameter names bound for subtable k, in order. */
function paramsFor<P>(k: number, s: Subtable<P>, opts: CodegenOptions): string[] {
  const p = [`P${k}`, `T${k}`, `D${k}`, `H${k}`, `M${k}`];
  if (opts.staged || opts.wildcards) {
    for (let si = 0; si < s.stageEnds.length; si++) p.push(`F${k}_${si}`, `G${k}_${si}`);
  }
  return p;
}

function argsFor<P>(s: Subtable<P>, opts: CodegenOptions): unknown[] {
  const a: unknown[] = [s.maxPriority, s.tags, s.data, s.heads, s.capMask];
  if (opts.staged || opts.wildcards) for (const f of s.filters) a.push(f.bits, f.wordMask);
  return a;
}

/**
 * Source of the lookup function over `subtables` (already in probe order),
 * unrolled for the first `unrolled` of them; the rest go to `TAIL`.
 *
 * Every key word any unrolled subtable reads is loaded once, at the top: the
 * loads are independent, so the cache misses of a cold key overlap instead of
 * stalling block after block. (Hoisting the masked values and hash products
 * that several subtables share was measured too: no gain, more register
 * pressure, so it is not done.)
 */
export function lookupSource<P>(
  subtables: readonly Subtable<P>[],
  unrolled: number,
  opts: CodegenOptions,
): string {
  const u = Math.min(unrolled, subtables.length);
  const used = new Set<number>();
  for (let k = 0; k < u; k++) for (const w of subtables[k]!.words) used.add(w);
  const out: string[] = [];
  out.push(`"use strict";`);
  out.push(`// dvrflow classifier lookup (generated by datapath/classifier/codegen.ts).`);
  const wild = opts.wildcards;
  out.push(
    `// ${subtables.length} subtable(s) in probe order (max priority, highest first); ${u} unrolled` +
      `${wild ? "; staged, tries, reports wildcards" : opts.staged ? "; staged" : ""}.`,
  );
  out.push(
    wild
      ? `return function classifierLookupWildcards(w, o, wc) {`
      : `return function classifierLookup(w, o) {`,
  );
  for (const w of [...used].sort((a, b) => a - b))
    out.push(`  const ${wordVar(w)} = w[o + ${w}] | 0; // ${WORD_NAMES[w]!}`);
  out.push(`  let best = null;`);
  out.push(`  let bestPri = -1;`);
  out.push(`  let h = 0, f = 0, i = 0, t = 0, b = 0, tag = 0;`);
  if (wild) {
    out.push(
      `  // Per trie: looked up yet, matched prefix lengths, address bits examined (prefix-trie.ts).`,
    );
    for (let f = 0; f < TRIE_FIELDS.length; f++)
      out.push(`  let tl${f} = 0, pl${f} = 0, mb${f} = 0;`);
  }
  for (let k = 0; k < u; k++) out.push(subtableBlock(k, subtables[k]!, opts));
  const tailArgs = wild ? "w, o, wc, best" : "w, o, best";
  out.push(u < subtables.length ? `  return TAIL(${tailArgs});` : `  return best;`);
  out.push(`};`);
  return out.join("\n");
}

/** Compiles the walk for `subtables` bound to their current arrays and max priorities. */
function compile<P>(
  subtables: readonly Subtable<P>[],
  unrolled: number,
  tail: unknown,
  opts: CodegenOptions,
  tries: readonly PrefixTrie[],
): { fn: unknown; source: string } {
  const u = Math.min(unrolled, subtables.length);
  const source = lookupSource(subtables, u, opts);
  const params: string[] = [];
  for (let k = 0; k < u; k++) params.push(...paramsFor(k, subtables[k]!, opts));
  if (opts.wildcards) for (let f = 0; f < TRIE_FIELDS.length; f++) params.push(`TR${f}`);
  params.push("TAIL");
  const factory = new Function(...params, `${source}\n// bind ${++bindSequence}`) as Factory;
  const args: unknown[] = [];
  for (let k = 0; k < u; k++) args.push(...argsFor(subtables[k]!, opts));
  if (opts.wildcards) args.push(...tries);
  args.push(tail);
  return { fn: factory(...args), source };
}

/** The plain lookup function (`staged`: with stage-filter checks). */
export function generateLookup<P>(
  subtables: readonly Subtable<P>[],
  unrolled: number,
  tail: TailFn<P>,
  staged: boolean,
): { fn: LookupFn<P>; source: string } {
  const g = compile(subtables, unrolled, tail, { staged, wildcards: false }, []);
  return { fn: g.fn as LookupFn<P>, source: g.source };
}

/** The megaflow lookup function: staged, with `tries` (one per TRIE_FIELDS entry), reporting into `wc`. */
export function generateWildcardLookup<P>(
  subtables: readonly Subtable<P>[],
  unrolled: number,
  tail: WildcardTailFn<P>,
  tries: readonly PrefixTrie[],
): { fn: WildcardLookupFn<P>; source: string } {
  const g = compile(subtables, unrolled, tail, { staged: true, wildcards: true }, tries);
  return { fn: g.fn as WildcardLookupFn<P>, source: g.source };
}
