/**
 * Generated lookup functions: the subtable walk unrolled into straight-line
 * JavaScript, one block per subtable, with word indexes, masks and hash
 * multipliers as literals (performance.md §3.3 and §6.1: 2–2.7× over the
 * data-driven loop, because V8 then sees constant indexes, no inner loops and
 * one monomorphic shape per block).
 *
 * The source depends only on the subtables' masks and their order, never on
 * the rules or the table capacities: those arrive as closure parameters
 * (`T0`/`D0`/`H0`/`M0`...). So rule churn inside existing subtables needs no
 * new code, and the factory for a given source is compiled once and cached
 * (`new Function` costs tens of microseconds; binding a cached factory is a
 * plain call).
 *
 * Readability is part of the contract: `generatedSource()` on a classifier
 * returns what runs, with the fields of each subtable named in a comment.
 */
import { WORD_NAMES } from "./compiled-match.js";
import { HASH_FINAL_MULT, HASH_MULT } from "./hash.js";
import type { ClsRule } from "./rule.js";
import { SLOT_KEY, SLOT_PRIORITY, type Subtable } from "./subtable.js";

/** A generated lookup: FlowKey words → best rule or null. */
export type LookupFn<P> = (w: Uint32Array, o: number) => ClsRule<P> | null;

/** Continues the walk at the first subtable not unrolled. */
export type TailFn<P> = (w: Uint32Array, o: number, best: ClsRule<P> | null) => ClsRule<P> | null;

type Factory = (...args: unknown[]) => LookupFn<unknown>;

/** Generated source → compiled factory. Bounded: masks come from flow tables, not packets. */
const factoryCache = new Map<string, Factory>();
const FACTORY_CACHE_LIMIT = 512;

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

/** The block for subtable `k`: hash the masked words, probe, compare. */
function subtableBlock(
  k: number,
  s: { words: Int32Array; masks: Int32Array; stride: number },
): string {
  const { words, masks, stride } = s;
  const n = words.length;
  const fields: string[] = [];
  for (let j = 0; j < n; j++) {
    const m = masks[j]! | 0;
    fields.push(
      m === -1 ? WORD_NAMES[words[j]!]! : `${WORD_NAMES[words[j]!]!}/0x${(m >>> 0).toString(16)}`,
    );
  }
  const lines: string[] = [];
  lines.push(`  // subtable ${k}: ${n === 0 ? "(catch-all)" : fields.join(" ")}`);
  lines.push(`  if (S${k}.maxPriority <= bestPri) return best;`);
  lines.push(`  {`);
  const keyVars: string[] = [];
  const terms: string[] = [];
  for (let j = 0; j < n; j++) {
    lines.push(`    const k${j} = ${maskedExpr(words[j]!, masks[j]!)};`);
    keyVars.push(`k${j}`);
    terms.push(productExpr(`k${j}`, words[j]!));
  }
  if (n === 0) lines.push(`    h = 0;`);
  for (let j = 0; j < n; j += TERMS_PER_SUM) {
    const chunk = terms.slice(j, j + TERMS_PER_SUM).join(" + ");
    lines.push(j === 0 ? `    h = (${chunk}) | 0;` : `    h = (h + ${chunk}) | 0;`);
  }
  lines.push(`    h ^= h >>> 16;`);
  lines.push(`    h = Math.imul(h, ${int32Literal(HASH_FINAL_MULT)});`);
  lines.push(`    h ^= h >>> 16;`);
  lines.push(`    tag = h | 1;`);
  lines.push(`    i = (h >>> 1) & M${k};`);
  // Slot layout (subtable.ts): tag in T; [head priority, key words...] in D, `stride` int32s.
  lines.push(`    while ((t = T${k}[i]) !== 0) {`);
  lines.push(`      if (t === tag) {`);
  lines.push(`        b = i * ${stride};`);
  const cmp: string[] = [];
  for (let j = 0; j < n; j++) cmp.push(`D${k}[b + ${SLOT_KEY + j}] === ${keyVars[j]!}`);
  lines.push(`        if (${cmp.length === 0 ? "true" : cmp.join(" && ")}) {`);
  lines.push(
    `          if (D${k}[b + ${SLOT_PRIORITY}] > bestPri) { best = H${k}[i]; bestPri = D${k}[b + ${SLOT_PRIORITY}]; }`,
  );
  lines.push(`          break;`);
  lines.push(`        }`);
  lines.push(`      }`);
  lines.push(`      i = (i + 1) & M${k};`);
  lines.push(`    }`);
  lines.push(`  }`);
  return lines.join("\n");
}

/** Parameter names bound for subtable k, in order. */
function paramsFor(k: number): string[] {
  return [`S${k}`, `T${k}`, `D${k}`, `H${k}`, `M${k}`];
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
export function lookupSource<P>(subtables: readonly Subtable<P>[], unrolled: number): string {
  const u = Math.min(unrolled, subtables.length);
  const used = new Set<number>();
  for (let k = 0; k < u; k++) for (const w of subtables[k]!.words) used.add(w);
  const out: string[] = [];
  out.push(`"use strict";`);
  out.push(`// dvrflow classifier lookup (generated by datapath/classifier/codegen.ts).`);
  out.push(
    `// ${subtables.length} subtable(s) in probe order (max priority, highest first); ${u} unrolled.`,
  );
  out.push(`return function classifierLookup(w, o) {`);
  for (const w of [...used].sort((a, b) => a - b))
    out.push(`  const ${wordVar(w)} = w[o + ${w}] | 0; // ${WORD_NAMES[w]!}`);
  out.push(`  let best = null;`);
  out.push(`  let bestPri = -1;`);
  out.push(`  let h = 0, i = 0, t = 0, b = 0, tag = 0;`);
  for (let k = 0; k < u; k++) out.push(subtableBlock(k, subtables[k]!));
  out.push(u < subtables.length ? `  return TAIL(w, o, best);` : `  return best;`);
  out.push(`};`);
  return out.join("\n");
}

/** Builds (or takes from the cache) the lookup function for `subtables` and binds their current arrays. */
export function generateLookup<P>(
  subtables: readonly Subtable<P>[],
  unrolled: number,
  tail: TailFn<P>,
): { fn: LookupFn<P>; source: string } {
  const u = Math.min(unrolled, subtables.length);
  const source = lookupSource(subtables, u);
  let factory = factoryCache.get(source);
  if (factory === undefined) {
    const params: string[] = [];
    for (let k = 0; k < u; k++) params.push(...paramsFor(k));
    params.push("TAIL");
    factory = new Function(...params, source) as Factory;
    if (factoryCache.size >= FACTORY_CACHE_LIMIT) factoryCache.clear();
    factoryCache.set(source, factory);
  }
  const args: unknown[] = [];
  for (let k = 0; k < u; k++) {
    const s = subtables[k]!;
    args.push(s, s.tags, s.data, s.heads, s.capMask);
  }
  args.push(tail);
  return { fn: factory(...args) as LookupFn<P>, source };
}
