/**
 * Sharing compiled instructions between flows that have the same ones.
 *
 * A flow table of 100,000 flows usually has a handful of distinct action
 * lists (`pop_vlan,output:N` for N in a few ports), but each FLOW_MOD
 * decodes its own instruction objects and compiling them makes its own ops.
 * Kept per flow that is ~1 KB of objects; shared, it is a pointer (issue 4
 * §2: 100,000 flows well under 200 MB). OVS shares nothing here, but its
 * ofpacts are a flat byte array per rule, already compact.
 *
 * The key is a structural hash of the decoded instructions (every primitive,
 * bigint and byte array, objects by their own keys; OXM field descriptors,
 * which the codec shares, by identity), confirmed by a structural equality
 * check, and the table id (goto_table is checked against it). Compiling is
 * also validation that depends on the bridge's groups, so the bridge drops
 * the whole cache when its groups change.
 */
import type { Instruction } from "../codec/instructions.js";
import type { FlowProgram } from "./flow-entry.js";

const MAX_DEPTH = 16;

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193);
}

function hashString(h: number, s: string): number {
  h = mix(h, s.length);
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return h;
}

/** Structural hash of a decoded value (objects, arrays, typed arrays, primitives). */
export function structuralHash(v: unknown, h = 0x811c9dc5, depth = 0): number {
  switch (typeof v) {
    case "number":
      return mix(mix(h, 1), Number.isInteger(v) ? v | 0 : hashString(0, String(v)));
    case "string":
      return hashString(mix(h, 2), v);
    case "boolean":
      return mix(h, v ? 3 : 4);
    case "bigint":
      return hashString(mix(h, 5), v.toString(16));
    case "undefined":
      return mix(h, 6);
    case "object": {
      if (v === null) return mix(h, 7);
      if (depth > MAX_DEPTH) return mix(h, 8);
      if (v instanceof Uint8Array) {
        h = mix(mix(h, 9), v.length);
        for (let i = 0; i < v.length; i++) h = mix(h, v[i]!);
        return h;
      }
      if (Array.isArray(v)) {
        h = mix(mix(h, 10), v.length);
        for (const x of v) h = structuralHash(x, h, depth + 1);
        return h;
      }
      h = mix(h, 11);
      for (const k of Object.keys(v)) {
        h = hashString(h, k);
        h = structuralHash((v as Record<string, unknown>)[k], h, depth + 1);
      }
      return h;
    }
    default:
      return mix(h, 12);
  }
}

/** Structural equality matching {@link structuralHash}. */
export function structuralEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  }
  if (depth > MAX_DEPTH) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) {
      return false;
    }
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!structuralEqual(a[i], bb[i], depth + 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    if (!structuralEqual(va, vb, depth + 1)) return false;
  }
  return true;
}

export interface SharedProgram {
  readonly tableId: number;
  readonly instructions: readonly Instruction[];
  readonly program: FlowProgram;
}

/** Bounded: a pathological controller sending distinct actions per flow cannot grow it forever. */
const LIMIT = 1 << 14;

export class ProgramCache {
  private readonly byHash = new Map<number, SharedProgram[]>();
  private size = 0;

  /**
   * The shared (instructions, program) for `instructions` in table
   * `tableId`, compiled with `compile` (which may throw the flow-mod's
   * OfpError) the first time.
   */
  get(
    instructions: readonly Instruction[],
    tableId: number,
    compile: () => FlowProgram,
  ): SharedProgram {
    const h = mix(structuralHash(instructions), tableId);
    let list = this.byHash.get(h);
    if (list !== undefined) {
      for (const s of list) {
        if (s.tableId === tableId && structuralEqual(s.instructions, instructions)) return s;
      }
    }
    const program = compile();
    const shared: SharedProgram = { tableId, instructions, program };
    if (this.size >= LIMIT) this.clear();
    if (list === undefined || this.byHash.get(h) !== list) this.byHash.set(h, (list = []));
    list.push(shared);
    this.size++;
    return shared;
  }

  clear(): void {
    this.byHash.clear();
    this.size = 0;
  }
}
