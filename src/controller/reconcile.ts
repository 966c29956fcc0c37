/**
 * Reconciliation: make a bridge's flows under our cookie prefix equal the
 * desired set, sending only the difference (reliability.md §3.3,
 * ecosystem.md §4.4).
 *
 * 1. Dump every flow under our cookie prefix (one multipart FLOW request,
 *    joined). A failed or partial dump is "unknown": nothing is sent, and
 *    above all nothing is deleted.
 * 2. Diff by identity (table, priority, canonical match), the same key the
 *    compiler gives each DesiredFlow:
 *    - desired and absent → add;
 *    - present with other instructions or another cookie → modify, as an
 *      ADD with the same identity, which replaces the entry in place (OF1.3
 *      has no way to change only a cookie; an ADD keeps counters unless
 *      reset_counts is set);
 *    - ours, not learned, not desired → DELETE_STRICT, restricted to its
 *      exact cookie (cookie_mask all ones) so a flow someone re-owned since
 *      the dump survives;
 *    - flows without our prefix are never touched, and flows the switch
 *      learned (br-tun's `learn`, kind `learned` in the cookie) are neither
 *      diffed nor deleted.
 *    Nothing to change → nothing is sent: a controller restart with an
 *    unchanged topology sends zero FLOW_MODs.
 * 3. Send the difference atomically where the switch can: one ONF bundle
 *    (EXT-230 in OF1.3, ATOMIC|ORDERED: adds and modifies, then deletes),
 *    committed, then a barrier. A switch that refuses bundle OPEN (our
 *    userspace switch, old OVS) gets the fallback of §4.4: adds/modifies,
 *    barrier, deletes, barrier; the generation counts as applied only when
 *    both barriers came back with no error in between.
 */
import type { OfMessage } from "../../codec/message.js";
import { OFPBCT, OFPBF } from "../../codec/messages/bundle.js";
import type { ErrorMessage } from "../../codec/messages/error.js";
import {
  OFPFC,
  OFPG_ANY,
  OFP_NO_BUFFER,
  type FlowModMessage,
} from "../../codec/messages/flow-mod.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import { canonicalMatch } from "../../codec/match.js";
import type { Match, MatchEntry, OxmEntry } from "../../codec/oxm.js";
import { OFPP } from "../../codec/ports.js";
import { encodeInstructions } from "../../codec/instructions.js";
import { formatInstructions } from "../../codec/text/index.js";
import { Writer } from "../../codec/writer.js";
import { toFlowMod, type DesiredFlow } from "../dvr/flow.js";
import { COOKIE, isOurs, learnedCookie } from "../dvr/tables.js";
import {
  RequestError,
  type FenceResult,
  type MessageSource,
  type RequestOptions,
} from "./connection.js";

/** What reconciliation needs from a switch connection (Connection implements it). */
export interface FlowChannel {
  dumpFlows(cookie: bigint, cookieMask: bigint): Promise<FlowStats[]>;
  fenced(msgs: readonly OfMessage[]): Promise<FenceResult>;
  /**
   * Optional: {@link fenced} for messages built on demand (Connection has
   * it), so that a large install does not hold every FLOW_MOD until its
   * barrier. Without it the messages are built first and sent with `fenced`.
   */
  fencedFrom?(msgs: MessageSource): Promise<FenceResult>;
  request(msg: OfMessage, timeoutMs?: number, options?: RequestOptions): Promise<OfMessage>;
}

/**
 * What a switch without ONF bundles answers to the bundle OPEN probe: "I do
 * not know this message" (our userspace switch: OFPBRC_BAD_TYPE; OVS names
 * the experimenter and exp_type refusals BAD_VENDOR and BAD_SUBTYPE). Such a
 * refusal is the expected answer of a probe, not a fault, so the connection
 * logs it at debug level and counts no error. Any other refusal of OPEN
 * still means "no bundle" to reconciliation, but is reported loudly.
 */
export const BUNDLE_PROBE_REFUSALS: ReadonlySet<string> = new Set([
  "OFPBRC_BAD_TYPE",
  "OFPBRC_BAD_VENDOR",
  "OFPBRC_BAD_SUBTYPE",
]);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

/**
 * A flow's identity on the switch: `table/priority/field=value[/mask],…` over
 * the canonical (OVS) order of the match. Must equal DesiredFlow.key for the
 * same flow; a test holds the two together.
 */
export function flowIdentity(tableId: number, priority: number, match: Match): string {
  const m = canonicalMatch(match);
  let key = `${tableId}/${priority}/`;
  for (const e of m.entries) {
    if (e.field === undefined) continue;
    key += `${e.field.name}=${hex(e.value)}${e.mask === undefined ? "" : `/${hex(e.mask)}`},`;
  }
  return key;
}

/**
 * Structural equality of two codec values (plain objects, arrays, numbers,
 * bigints, strings, byte arrays; shared registry objects such as OXM fields
 * are equal by identity first; anything else is "not known equal"). Values that are equal this way encode to the
 * same bytes, since encoding is a function of the value; values that are
 * not may still encode alike (a key present as `undefined` on one side and
 * absent on the other), which is what the byte comparison after it is for.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  // Plain objects only: anything else (a Map, a class instance) is left to
  // the byte comparison rather than judged by its own enumerable keys.
  const proto = Object.getPrototypeOf(a) as unknown;
  if (proto !== Object.prototype || Object.getPrototypeOf(b) !== proto) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let keys = 0;
  for (const k in ra) {
    if (!Object.hasOwn(rb, k) || !sameValue(ra[k], rb[k])) return false;
    keys++;
  }
  for (const k in rb) if (Object.hasOwn(rb, k)) keys--;
  return keys === 0;
}

const scratchA = new Writer(1024);
const scratchB = new Writer(1024);
function sameEncoding(a: FlowStats["instructions"], b: FlowStats["instructions"]): boolean {
  scratchA.pos = 0;
  scratchB.pos = 0;
  encodeInstructions(scratchA, a);
  encodeInstructions(scratchB, b);
  return equalBytes(scratchA.written(), scratchB.written());
}

/**
 * Same instructions? Values first (a resync of an unchanged bridge answers
 * here for almost every flow, with no encoding and no allocation), then
 * bytes (exact for what we sent); text when the bytes differ, since a
 * switch may re-encode an action in an equivalent form (an NXM header for
 * an OXM field, say), and ovs-ofctl's text is what "equal" means to an
 * operator running diff-flows.
 */
export function sameInstructions(
  a: FlowStats["instructions"],
  b: FlowStats["instructions"],
): boolean {
  if (sameValue(a, b) || sameEncoding(a, b)) return true;
  return formatInstructions(a) === formatInstructions(b);
}

export interface FlowDiff {
  readonly add: readonly DesiredFlow[];
  /** Desired flows whose installed twin has other instructions or another cookie. */
  readonly modify: readonly DesiredFlow[];
  readonly delete: readonly FlowStats[];
  readonly unchanged: number;
  /** Installed flows left alone: learned by the switch, or not under our prefix. */
  readonly ignored: { readonly learned: number; readonly foreign: number };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** FNV-1a step. */
const mix = (h: number, byte: number): number => Math.imul(h ^ byte, 0x01000193);

/**
 * A hash of what {@link flowIdentity} spells out for canonical `entries`:
 * table, priority, and the value and mask bytes of every known field (field
 * names are left to {@link sameIdentity}, which settles collisions).
 */
function identityHash(tableId: number, priority: number, entries: readonly MatchEntry[]): number {
  let h = mix(mix(mix(0x811c9dc5, tableId), priority >>> 8), priority & 0xff);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.field === undefined) continue;
    h = mix(h, e.value.length);
    for (let j = 0; j < e.value.length; j++) h = mix(h, e.value[j]!);
    if (e.mask !== undefined) {
      h = mix(h, 0x100);
      for (let j = 0; j < e.mask.length; j++) h = mix(h, e.mask[j]!);
    }
  }
  return h;
}

/**
 * Do two canonical matches have the same identity, i.e. would
 * {@link flowIdentity} spell them alike? The same known fields (by name) in
 * the same order with the same value bytes, and the same mask or none;
 * entries of unknown fields do not count, as in the string.
 */
function sameIdentity(a: readonly MatchEntry[], b: readonly MatchEntry[]): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && a[i]!.field === undefined) i++;
    while (j < b.length && b[j]!.field === undefined) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    const x = a[i] as OxmEntry;
    const y = b[j] as OxmEntry;
    if (x.field !== y.field && x.field.name !== y.field.name) return false;
    if (!equalBytes(x.value, y.value)) return false;
    if (x.mask === undefined || y.mask === undefined) {
      if (x.mask !== y.mask) return false;
    } else if (!equalBytes(x.mask, y.mask)) return false;
    i++;
    j++;
  }
}

/** One identity present on the switch (a chain per hash value). */
interface Present {
  readonly tableId: number;
  readonly priority: number;
  readonly entries: readonly MatchEntry[];
  /** The last installed flow with this identity. */
  flow: FlowStats;
  wanted: boolean;
  next: Present | undefined;
}

function findPresent(
  chain: Present | undefined,
  tableId: number,
  priority: number,
  entries: readonly MatchEntry[],
): Present | undefined {
  for (let p = chain; p !== undefined; p = p.next) {
    if (p.tableId === tableId && p.priority === priority && sameIdentity(p.entries, entries)) {
      return p;
    }
  }
  return undefined;
}

/**
 * The pure diff of step 2. Identities are compared as values (a hash of the
 * match bytes, then field by field) rather than as {@link flowIdentity}
 * strings: the same relation, without building and hashing a string per
 * flow, which was most of a 100k-flow resync. A desired flow's identity is
 * taken from its match, which is what its `key` spells (the compiler builds
 * the key from the same canonical match; a test holds the two together).
 */
export function diffFlows(
  desired: readonly DesiredFlow[],
  installed: readonly FlowStats[],
  cookiePrefix: number,
): FlowDiff {
  const present = new Map<number, Present>();
  /** In order of first appearance, as the delete list has always been. */
  const order: Present[] = [];
  let learned = 0;
  let foreign = 0;
  // isOurs/isLearned, with their bigint constants built once per diff
  // rather than once per flow.
  const owner = BigInt(cookiePrefix & 0xff) << COOKIE.prefixShift;
  const learnedValue = learnedCookie(cookiePrefix);
  for (const f of installed) {
    if ((f.cookie & COOKIE.ownerMask) !== owner) {
      foreign++;
      continue;
    }
    if ((f.cookie & COOKIE.kindMask) === learnedValue) {
      learned++;
      continue;
    }
    const entries = canonicalMatch(f.match).entries;
    const h = identityHash(f.tableId, f.priority, entries);
    const chain = present.get(h);
    const same = findPresent(chain, f.tableId, f.priority, entries);
    if (same !== undefined) {
      same.flow = f;
      continue;
    }
    const p: Present = {
      tableId: f.tableId,
      priority: f.priority,
      entries,
      flow: f,
      wanted: false,
      next: chain,
    };
    present.set(h, p);
    order.push(p);
  }
  const add: DesiredFlow[] = [];
  const modify: DesiredFlow[] = [];
  let unchanged = 0;
  for (const d of desired) {
    if (present.size === 0) {
      add.push(d); // an empty bridge (a first install): nothing to look up
      continue;
    }
    const entries = canonicalMatch(d.match).entries;
    const chain = present.get(identityHash(d.table.id, d.priority, entries));
    const p = findPresent(chain, d.table.id, d.priority, entries);
    if (p === undefined) {
      add.push(d);
      continue;
    }
    p.wanted = true;
    const have = p.flow;
    if (have.cookie !== d.cookie || !sameInstructions(have.instructions, d.instructions)) {
      modify.push(d);
    } else unchanged++;
  }
  const del: FlowStats[] = [];
  for (const p of order) if (!p.wanted) del.push(p.flow);
  return { add, modify, delete: del, unchanged, ignored: { learned, foreign } };
}

/** The DELETE_STRICT that removes exactly one installed flow of ours. */
export function deleteStrictFor(f: FlowStats): FlowModMessage {
  return {
    type: "flow_mod",
    xid: 0,
    cookie: f.cookie,
    cookieMask: 0xffff_ffff_ffff_ffffn,
    tableId: f.tableId,
    command: OFPFC.DELETE_STRICT,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: f.priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    match: f.match,
    instructions: [],
  };
}

/** The FLOW_MODs of a diff, in the order they must apply: adds and modifies, then deletes. */
export function diffMessages(d: FlowDiff): {
  readonly upserts: FlowModMessage[];
  readonly deletes: FlowModMessage[];
} {
  return {
    upserts: [...d.add, ...d.modify].map((f) => toFlowMod(f)),
    deletes: d.delete.map(deleteStrictFor),
  };
}

/** Bundle properties: none (one shared empty array, not one per message). */
const NO_PROPERTIES = new Uint8Array(0);

/**
 * The FLOW_MODs of a diff in the order {@link diffMessages} gives them
 * (upserts, then deletes), each built when asked for, optionally wrapped in
 * a BUNDLE_ADD. The same index always gives an equal message.
 */
class FlowModSource implements MessageSource {
  constructor(
    private readonly upserts: readonly DesiredFlow[],
    private readonly deletes: readonly FlowStats[],
    private readonly bundle: { readonly bundleId: number; readonly flags: number } | undefined,
  ) {}

  get length(): number {
    return this.upserts.length + this.deletes.length;
  }

  at(index: number): OfMessage | undefined {
    if (index < 0 || index >= this.length) return undefined;
    const n = this.upserts.length;
    const message =
      index < n ? toFlowMod(this.upserts[index]!) : deleteStrictFor(this.deletes[index - n]!);
    const b = this.bundle;
    if (b === undefined) return message;
    return {
      type: "bundle_add",
      xid: 0,
      bundleId: b.bundleId,
      flags: b.flags,
      message,
      properties: NO_PROPERTIES,
    };
  }
}

/** `msgs` fenced, built on demand where the channel can, else built first. */
function sendFenced(ch: FlowChannel, msgs: MessageSource): Promise<FenceResult> {
  if (ch.fencedFrom !== undefined) return ch.fencedFrom(msgs);
  return ch.fenced(Array.from({ length: msgs.length }, (_, i) => msgs.at(i)!));
}

export type BundleMode = "auto" | "always" | "never";

export interface ReconcileOptions {
  readonly cookiePrefix: number;
  /** Bundles: try and fall back ("auto"), insist, or never. Default "auto". */
  readonly bundles?: BundleMode;
  /** What the caller learned about this switch's bundle support (kept across reconciles). */
  readonly bundleSupport?: { supported: boolean | undefined };
  /** Bundle id to use (unique per connection). */
  readonly bundleId?: number;
}

export interface ReconcileResult {
  readonly diff: FlowDiff;
  /** FLOW_MODs sent, by kind. */
  readonly sent: { readonly add: number; readonly modify: number; readonly delete: number };
  readonly installedBefore: number;
  /** Flows of ours (not learned) on the switch afterwards, as far as we know. */
  readonly installedAfter: number;
  readonly usedBundle: boolean;
  /** True when table 23's canary was missing: the switch lost its flows (restart). */
  readonly canaryMissing: boolean;
  readonly errors: readonly { readonly request: OfMessage; readonly error: ErrorMessage }[];
  readonly ms: number;
}

/** Raised when the dump fails: the switch state is unknown and nothing was sent. */
export class DumpFailedError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `flow dump failed, switch state unknown: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = "DumpFailedError";
  }
}

const CANARY_TABLE = 23;

/** One reconciliation of one bridge (steps 1–3 above). */
export async function reconcileBridge(
  ch: FlowChannel,
  desired: readonly DesiredFlow[],
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const started = performance.now();
  const prefixCookie = BigInt(options.cookiePrefix & 0xff) << COOKIE.prefixShift;
  let installed: FlowStats[];
  try {
    installed = await ch.dumpFlows(prefixCookie, COOKIE.ownerMask);
  } catch (e) {
    throw new DumpFailedError(e);
  }
  const diff = diffFlows(desired, installed, options.cookiePrefix);
  const canaryWanted = desired.some((f) => f.table.id === CANARY_TABLE);
  const canaryMissing =
    canaryWanted &&
    !installed.some((f) => f.tableId === CANARY_TABLE && isOurs(f.cookie, options.cookiePrefix));
  const installedBefore = installed.length - diff.ignored.learned - diff.ignored.foreign;
  const upserts = diff.modify.length === 0 ? diff.add : [...diff.add, ...diff.modify];
  const deletes = diff.delete;
  const base = {
    diff,
    installedBefore,
    canaryMissing,
    sent: { add: diff.add.length, modify: diff.modify.length, delete: diff.delete.length },
  };
  if (upserts.length === 0 && deletes.length === 0) {
    return {
      ...base,
      sent: { add: 0, modify: 0, delete: 0 },
      installedAfter: installedBefore,
      usedBundle: false,
      errors: [],
      ms: performance.now() - started,
    };
  }
  const mode = options.bundles ?? "auto";
  const support = options.bundleSupport ?? { supported: undefined };
  let usedBundle = false;
  let errors: FenceResult["errors"] = [];
  if (mode !== "never" && support.supported !== false) {
    const r = await inBundle(ch, upserts, deletes, options.bundleId ?? 1);
    if (r === "unsupported") {
      if (mode === "always")
        throw new Error("the switch refused an ONF bundle and bundles are required");
      support.supported = false;
    } else {
      support.supported = true;
      usedBundle = true;
      errors = r.errors;
    }
  }
  if (!usedBundle) {
    const first = await sendFenced(ch, new FlowModSource(upserts, [], undefined));
    errors = first.errors;
    // Deletes only after every add is confirmed: a failed add must not leave
    // the bridge with neither the old flow nor the new one.
    if (errors.length === 0 && deletes.length > 0) {
      errors = (await sendFenced(ch, new FlowModSource([], deletes, undefined))).errors;
    }
  }
  const installedAfter = installedBefore + diff.add.length - diff.delete.length;
  return { ...base, installedAfter, usedBundle, errors, ms: performance.now() - started };
}

/**
 * Sends `msgs` as one ONF bundle (ATOMIC|ORDERED), commits it and fences it
 * with a barrier. "unsupported" when the switch refuses OPEN: nothing was
 * changed then. If any bundled message fails, OVS discards the whole bundle
 * ("none of them are executed") and we report the errors.
 */
async function inBundle(
  ch: FlowChannel,
  upserts: readonly DesiredFlow[],
  deletes: readonly FlowStats[],
  bundleId: number,
): Promise<"unsupported" | FenceResult> {
  const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
  const ctrl = (ctrlType: number): OfMessage => ({
    type: "bundle_ctrl",
    xid: 0,
    bundleId,
    ctrlType,
    flags,
    properties: NO_PROPERTIES,
  });
  try {
    const open = await ch.request(ctrl(OFPBCT.OPEN_REQUEST), undefined, {
      expectedErrors: BUNDLE_PROBE_REFUSALS,
    });
    if (open.type !== "bundle_ctrl" || open.ctrlType !== OFPBCT.OPEN_REPLY) return "unsupported";
  } catch (e) {
    if (e instanceof RequestError && e.failure.kind === "error") return "unsupported";
    throw e;
  }
  // The connection gives each BUNDLE_ADD its xid and writes the same xid
  // into the bundled message's header, as OVS requires (Session.trackFenced).
  const added = await sendFenced(ch, new FlowModSource(upserts, deletes, { bundleId, flags }));
  if (added.errors.length > 0) {
    await ch.request(ctrl(OFPBCT.DISCARD_REQUEST)).catch(() => undefined);
    return added;
  }
  try {
    await ch.request(ctrl(OFPBCT.COMMIT_REQUEST));
  } catch (e) {
    if (e instanceof RequestError && e.failure.kind === "error") {
      return { errors: [{ request: ctrl(OFPBCT.COMMIT_REQUEST), error: e.failure.error }] };
    }
    throw e;
  }
  return ch.fenced([]);
}
