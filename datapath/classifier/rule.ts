/**
 * A classifier rule: a compiled match, a priority and an opaque payload (the
 * switch's flow entry). Rules are inserted by reference and identified by
 * reference: `remove(rule)` takes the very object that was inserted.
 */
import type { CompiledMatch } from "./compiled-match.js";

/** OpenFlow priorities are 16-bit; the classifier accepts any non-negative int32. */
export const MAX_PRIORITY = 0x7fffffff;

export class ClsRule<P = unknown> {
  readonly match: CompiledMatch;
  /** Higher wins. 0 ≤ priority ≤ {@link MAX_PRIORITY}. */
  readonly priority: number;
  readonly payload: P;

  /**
   * @internal Next rule with the *same match* and a lower priority (OVS chains
   * same-match rules in one subtable entry, highest priority first).
   */
  next: ClsRule<P> | null = null;
  /** @internal The classifier holding the rule, or null. */
  owner: object | null = null;

  constructor(match: CompiledMatch, priority: number, payload: P) {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(`priority ${priority} outside 0..${MAX_PRIORITY}`);
    }
    this.match = match;
    this.priority = priority;
    this.payload = payload;
  }
}
