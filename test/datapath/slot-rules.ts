/**
 * The slot model the classifier property tests share: a key is a few
 * "slots" (one FlowKey word each, with candidate masks and values); a rule
 * picks, per slot, a wildcard or a (mask, value) pair and a priority. Each
 * test file declares its own slots; the rule arbitrary and the rule → match
 * conversion are the same everywhere.
 */
import fc from "fast-check";
import {
  compiledMatchFromWords,
  type CompiledMatch,
} from "../../datapath/classifier/compiled-match.js";

/** One matchable slot of the key: its word, candidate masks and values. */
export interface Slot {
  readonly word: number;
  readonly masks: readonly number[];
  readonly values: readonly number[];
}

/** A rule spec: per slot, null (wildcard) or [mask index, value index]. */
export type RuleSpec = {
  readonly parts: readonly (readonly [number, number] | null)[];
  readonly priority: number;
};

/** Rules over `slots`, each slot wildcarded 3 times in 5. */
export function ruleSpecArb(
  slots: readonly Slot[],
  priorities: readonly number[],
): fc.Arbitrary<RuleSpec> {
  return fc.record({
    parts: fc.tuple(
      ...slots.map((s) =>
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(null) },
          {
            weight: 2,
            arbitrary: fc.tuple(fc.nat(s.masks.length - 1), fc.nat(s.values.length - 1)),
          },
        ),
      ),
    ),
    priority: fc.constantFrom(...priorities),
  });
}

/** The compiled match a rule spec describes. */
export function matchOf(slots: readonly Slot[], spec: RuleSpec): CompiledMatch {
  const words: number[] = [];
  const masks: number[] = [];
  const values: number[] = [];
  spec.parts.forEach((p, i) => {
    if (p === null) return;
    const s = slots[i]!;
    words.push(s.word);
    masks.push(s.masks[p[0]]!);
    values.push(s.values[p[1]]!);
  });
  return compiledMatchFromWords(words, masks, values);
}
