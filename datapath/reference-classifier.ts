/**
 * The reference classifier: a linear scan over every rule, written to be
 * obviously right rather than fast. It is the oracle the real classifier
 * (datapath/classifier/) is tested against, as OVS tests its classifier
 * against `tcls` in tests/test-classifier.c.
 *
 * Same contract as {@link Classifier}: insert replaces a rule with the same
 * match and priority; lookup returns a highest-priority matching rule. Among
 * several matching rules of that priority it returns the first inserted; the
 * real classifier may pick another one (OpenFlow leaves the choice undefined),
 * so tests compare priorities and use {@link ReferenceClassifier.lookupAll}
 * to check that the real answer is one of the tied winners.
 */
import type { FlowKey } from "../codec/packet/flow-key.js";
import { matchEquals, matchesWords, type CompiledMatch } from "./classifier/compiled-match.js";
import type { ClsRule } from "./classifier/rule.js";

export class ReferenceClassifier<P = unknown> {
  private readonly list: ClsRule<P>[] = [];

  get size(): number {
    return this.list.length;
  }

  insert(rule: ClsRule<P>): ClsRule<P> | null {
    for (let i = 0; i < this.list.length; i++) {
      const r = this.list[i]!;
      if (r.priority === rule.priority && matchEquals(r.match, rule.match)) {
        this.list[i] = rule;
        return r;
      }
    }
    this.list.push(rule);
    return null;
  }

  remove(rule: ClsRule<P>): boolean {
    const i = this.list.indexOf(rule);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  find(match: CompiledMatch, priority: number): ClsRule<P> | null {
    return this.list.find((r) => r.priority === priority && matchEquals(r.match, match)) ?? null;
  }

  lookup(key: FlowKey): ClsRule<P> | null {
    return this.lookupWords(key.w);
  }

  lookupWords(w: Uint32Array): ClsRule<P> | null {
    let best: ClsRule<P> | null = null;
    for (const r of this.list) {
      if (matchesWords(r.match, w) && (best === null || r.priority > best.priority)) best = r;
    }
    return best;
  }

  /** Every matching rule of the highest matching priority (empty when nothing matches). */
  lookupAll(w: Uint32Array): ClsRule<P>[] {
    const best = this.lookupWords(w);
    if (best === null) return [];
    return this.list.filter((r) => r.priority === best.priority && matchesWords(r.match, w));
  }

  rules(): readonly ClsRule<P>[] {
    return this.list;
  }
}
