/**
 * A bounded cache of immutable flow values (OXM entries, set-field actions)
 * by field, value and optional mask, for the builders of flow.ts.
 *
 * Why this shape:
 * - Keys are the field object and the numbers themselves, in nested maps:
 *   no key string is built per lookup (the string keys this replaces cost
 *   a number-to-text conversion and a fresh hash on every call, about 12%
 *   of a host's compile).
 * - Bounded, so a long-running controller does not keep the values of
 *   objects long gone, but in two generations rather than one map cleared
 *   when full: when the current generation reaches `limit` it becomes the
 *   previous one and the one before is dropped; a value found only in the
 *   previous generation moves back into the current. Values a compile keeps
 *   using therefore survive a turnover, and a working set up to `limit`
 *   never misses. A map that is cleared when full instead rebuilds
 *   everything once the set of values a compile cycles through exceeds
 *   the limit, and then shares nothing between the flows it builds.
 */

type Key = number | bigint;
/** mask → value; `undefined` stands for "no mask". */
type ByMask<V> = Map<Key | undefined, V>;
type Generation<F, V> = Map<F, Map<Key, ByMask<V>>>;

export class ValueCache<F, V> {
  private current: Generation<F, V> = new Map();
  private previous: Generation<F, V> = new Map();
  private count = 0;

  constructor(readonly limit: number) {}

  /** Values in the current generation. */
  get size(): number {
    return this.count;
  }

  get(field: F, value: Key, mask?: Key): V | undefined {
    const v = find(this.current, field, value, mask);
    if (v !== undefined) return v;
    const old = find(this.previous, field, value, mask);
    if (old !== undefined) this.set(field, value, mask, old);
    return old;
  }

  set(field: F, value: Key, mask: Key | undefined, v: V): void {
    if (this.count >= this.limit) {
      this.previous = this.current;
      this.current = new Map();
      this.count = 0;
    }
    let byValue = this.current.get(field);
    if (byValue === undefined) this.current.set(field, (byValue = new Map()));
    let byMask = byValue.get(value);
    if (byMask === undefined) byValue.set(value, (byMask = new Map()));
    if (!byMask.has(mask)) this.count++;
    byMask.set(mask, v);
  }
}

function find<F, V>(
  g: Generation<F, V>,
  field: F,
  value: Key,
  mask: Key | undefined,
): V | undefined {
  return g.get(field)?.get(value)?.get(mask);
}
