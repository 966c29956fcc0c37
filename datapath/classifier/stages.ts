/**
 * Lookup stages: the FlowKey split into segments, in the order a staged
 * lookup checks them (OVS lib/classifier.c "staged lookup", with the segment
 * boundaries of lib/flow.h `FLOW_SEGMENT_{1,2,3}_ENDS_AT`: metadata, then L2,
 * then L3, then L4).
 *
 * A subtable's mask words are sorted by FlowKey index, and every stage is a
 * contiguous range of indexes, so the words of a mask fall into the stages in
 * order. The partial key of stage s is the mask's words of stages 0..s; its
 * hash is a prefix of the full key's hash sum (hash.ts), which is what makes
 * the staged hash incremental: the full hash costs no extra work.
 *
 * Our key keeps the ARP and ND words after the L4 ports (flow-key.ts), so
 * they fall in the last stage here, where OVS has them in L3. That only moves
 * where a staged lookup can stop for an ARP rule; it changes no answer.
 */
import { FK } from "../../codec/packet/flow-key.js";

/** First FlowKey word *after* each stage; the last stage ends at the key's end. */
export const STAGE_ENDS = [FK.ETH_DST_HI, FK.NW_SRC, FK.TP_SRC, FK.SIZE] as const;

/** Stage names, for generated-code comments and diagnostics. */
export const STAGE_NAMES = ["metadata", "L2", "L3", "L4"] as const;

export const N_STAGES = STAGE_ENDS.length;

/** The stage holding FlowKey word `word`. */
export function stageOf(word: number): number {
  let s = 0;
  while (word >= STAGE_ENDS[s]!) s++;
  return s;
}

/**
 * Where each stage's partial key ends in a sorted mask word list: for every
 * stage that holds at least one of `words` *and* is followed by another
 * non-empty stage, the count of words up to and including that stage (OVS
 * keeps at most `CLS_MAX_INDICES = 3` such indices; with four segments we
 * never exceed that). The final stage needs no entry: its partial key is the
 * whole key, which the subtable's hash table itself checks.
 */
export function stageBoundaries(words: ArrayLike<number>): number[] {
  const ends: number[] = [];
  let j = 0;
  const n = words.length;
  for (let s = 0; s < N_STAGES && j < n; s++) {
    const start = j;
    while (j < n && words[j]! < STAGE_ENDS[s]!) j++;
    if (j > start && j < n) ends.push(j);
  }
  return ends;
}
