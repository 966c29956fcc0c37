/**
 * `ofp_match` (OXM, type 1): decode with OVS's strict or loose semantics (or
 * layout only), encode in the order given; {@link canonicalMatch} gives OVS's
 * canonical field order.
 *
 * Decode follows OVS `oxm_pull_match__` + `nx_pull_raw` (`lib/nx-match.c`):
 * - fewer than 4 bytes, `length` < 4, or the match padded to 8 overrunning
 *   the reader → OFPBMC_BAD_LEN; `type` ≠ 1 → OFPBMC_BAD_TYPE;
 * - per TLV (oxm.ts `decodeOxmTlv`): BAD_LEN, BAD_WILDCARDS, BAD_FIELD
 *   (strict; loose keeps an UnknownOxm), BAD_MASK, BAD_VALUE;
 * - strict only: a prerequisite not met by the fields *before* it →
 *   OFPBMC_BAD_PREREQ (order matters: `arp_tpa` before `eth_type` fails);
 * - strict and loose: a field whose storage is already matched → OFPBMC_DUP_FIELD;
 * - structural (`structural: true`): none of the semantic checks, unknown TLVs kept.
 *
 * Strict is FLOW_MOD semantics (`oxm_pull_match`); loose is for what switches
 * send: packet-in, flow-removed, flow stats (`oxm_pull_match_loose`).
 */
import { getU16 } from "./bytes.js";
import { OfpError } from "./errors.js";
import {
  MATCH_MODE,
  OXM_CLASS,
  OXM_FIELDS,
  decodeOxmAt,
  encodeOxmTlv,
  fieldByName,
  oxmCursor,
  oxmTlvSize,
  smallValue,
  type Match,
  type MatchEntry,
  type MatchMode,
  type OxmEntry,
  type OxmField,
  type Prereq,
} from "./oxm.js";
import type { Reader } from "./reader.js";
import type { Writer } from "./writer.js";

export type { Match, MatchEntry, OxmEntry, OxmField, UnknownOxm } from "./oxm.js";
export { MATCH_MODE, decodeOxmTlv, encodeOxmTlv } from "./oxm.js";
export type { MatchMode } from "./oxm.js";

/** `ofp_match_type` OFPMT_OXM. */
export const OFPMT_OXM = 1;
const MATCH_HEADER_SIZE = 4;

const ETH_TYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MCAST: 0x8848,
  PBB: 0x88e7,
} as const;
const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;
const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;
const OFPVID_PRESENT = 0x1000;
const FLOW_NW_FRAG_LATER = 0x02;
/** ct_state bits meaning "a valid conntrack entry" (OVS is_ct_valid). */
const CS_VALID_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80; // new est rel rpl snat dnat
const CS_INVALID = 0x10;
const CS_TRACKED = 0x20;

/**
 * What the fields seen so far say about the packet, for prerequisite checks
 * (OVS checks against the partially built `struct match`; unset fields read
 * 0). FLOW_MOD validation (flow-check.ts) keeps one per flow and lets actions
 * update it (push_vlan, push_mpls, ...), as OVS's `ofpacts_check` does.
 */
export interface FlowState {
  ethType: number;
  ipProto: number;
  /** tp_src: icmp type for ICMP, the source port otherwise. */
  tpSrc: number;
  /** tp_dst: icmp code for ICMP. */
  tpDst: number;
  vlanTci: number;
  ipFrag: number;
  ctState: number;
  ctStateMask: number;
  inPort: boolean;
}

export function newFlowState(): FlowState {
  return {
    ethType: 0,
    ipProto: 0,
    tpSrc: 0,
    tpDst: 0,
    vlanTci: 0,
    ipFrag: 0,
    ctState: 0,
    ctStateMask: 0,
    inPort: false,
  };
}

export function resetFlowState(s: FlowState): void {
  s.ethType = 0;
  s.ipProto = 0;
  s.tpSrc = 0;
  s.tpDst = 0;
  s.vlanTci = 0;
  s.ipFrag = 0;
  s.ctState = 0;
  s.ctStateMask = 0;
  s.inPort = false;
}

/**
 * The state of the match being decoded. One module-level instance, reset per
 * decodeMatch: decode is synchronous and never nests, and this keeps the hot
 * path allocation-free.
 */
const state = newFlowState();

/**
 * The flow state of the match the last strict {@link decodeMatch} produced
 * (what its prerequisite checks saw), valid until the next decode. The strict
 * FLOW_MOD decoder hands it to flow-check.ts instead of recomputing it.
 */
export function decodedMatchState(): Readonly<FlowState> {
  return state;
}

/** Copies `from` into `to`. */
export function copyFlowState(from: Readonly<FlowState>, to: FlowState): void {
  to.ethType = from.ethType;
  to.ipProto = from.ipProto;
  to.tpSrc = from.tpSrc;
  to.tpDst = from.tpDst;
  to.vlanTci = from.vlanTci;
  to.ipFrag = from.ipFrag;
  to.ctState = from.ctState;
  to.ctStateMask = from.ctStateMask;
  to.inPort = from.inPort;
}

export function isIpAny(s: FlowState): boolean {
  return s.ethType === ETH_TYPE.IPV4 || s.ethType === ETH_TYPE.IPV6;
}

export function isMpls(s: FlowState): boolean {
  return s.ethType === ETH_TYPE.MPLS || s.ethType === ETH_TYPE.MPLS_MCAST;
}

/** OVS `mf_are_prereqs_ok__` over `s` (default: the match being decoded). */
export function prereqSatisfied(p: Prereq, s: FlowState = state): boolean {
  switch (p) {
    case "none":
      return true;
    case "in_port":
      return s.inPort;
    case "vlan_vid":
      return (s.vlanTci & OFPVID_PRESENT) !== 0;
    case "mpls":
      return isMpls(s);
    case "pbb":
      return s.ethType === ETH_TYPE.PBB;
    case "ipv4":
      return s.ethType === ETH_TYPE.IPV4;
    case "ipv6":
      return s.ethType === ETH_TYPE.IPV6;
    case "ip_any":
      return isIpAny(s);
    case "arp":
      return s.ethType === ETH_TYPE.ARP || s.ethType === ETH_TYPE.RARP;
    case "tcp":
      return isIpAny(s) && s.ipProto === IP_PROTO.TCP && !(s.ipFrag & FLOW_NW_FRAG_LATER);
    case "udp":
      return isIpAny(s) && s.ipProto === IP_PROTO.UDP && !(s.ipFrag & FLOW_NW_FRAG_LATER);
    case "sctp":
      return isIpAny(s) && s.ipProto === IP_PROTO.SCTP && !(s.ipFrag & FLOW_NW_FRAG_LATER);
    case "icmpv4":
      return s.ethType === ETH_TYPE.IPV4 && s.ipProto === IP_PROTO.ICMP;
    case "icmpv6":
      return s.ethType === ETH_TYPE.IPV6 && s.ipProto === IP_PROTO.ICMPV6;
    case "nd":
      return isNd(s);
    case "nd_solicit":
      return isNd(s) && s.tpSrc === ND_NEIGHBOR_SOLICIT;
    case "nd_advert":
      return isNd(s) && s.tpSrc === ND_NEIGHBOR_ADVERT;
    case "ct_valid":
      return (
        (s.ctState & CS_VALID_BITS) !== 0 ||
        ((s.ctState & CS_TRACKED) !== 0 &&
          (s.ctStateMask & CS_INVALID) !== 0 &&
          (s.ctState & CS_INVALID) === 0)
      );
  }
}

function isNd(s: FlowState): boolean {
  return (
    s.ethType === ETH_TYPE.IPV6 &&
    s.ipProto === IP_PROTO.ICMPV6 &&
    s.tpDst === 0 &&
    (s.tpSrc === ND_NEIGHBOR_SOLICIT || s.tpSrc === ND_NEIGHBOR_ADVERT)
  );
}

function groupOf(name: string): number {
  const f = fieldByName(name);
  if (f === undefined) throw new Error(`registry lacks ${name}`);
  return f.group;
}
// Storage groups that later prerequisite checks read (numbers, so noteEntry switches on ints).
const G_ETH_TYPE = groupOf("eth_type");
const G_IP_PROTO = groupOf("nw_proto");
const G_VLAN = groupOf("vlan_vid"); // shared with NXM vlan_tci
const G_TP_SRC = groupOf("icmp_type"); // icmp/icmpv6 type share tp_src with tcp/udp/sctp src
const G_TP_DST = groupOf("icmp_code");
const G_IP_FRAG = groupOf("ip_frag");
const G_CT_STATE = groupOf("ct_state");
const G_IN_PORT = groupOf("in_port");
const G_PACKET_TYPE = groupOf("packet_type");
/** `OFPHTN_ETHERTYPE`: a packet_type namespace whose type is an Ethertype. */
const PT_NS_ETHERTYPE = 1;
/** OVS `FLOW_DL_TYPE_NONE`: what `get_dl_type` answers for other non-Ethernet packet types. */
const DL_TYPE_NONE = 0x5ff;

/** Whether an entry of this group feeds prerequisite checks (see {@link noteEntry}). */
const NOTED: boolean[] = [];
for (const g of [
  G_ETH_TYPE,
  G_IP_PROTO,
  G_VLAN,
  G_TP_SRC,
  G_TP_DST,
  G_IP_FRAG,
  G_CT_STATE,
  G_PACKET_TYPE,
]) {
  NOTED[g] = true;
}
NOTED[G_IN_PORT] = true;

/** Records what an accepted entry tells later prerequisite checks (value & mask, as OVS stores it). */
export function noteEntry(e: OxmEntry, s: FlowState = state): void {
  const f = e.field;
  const g = f.group;
  if (NOTED[g] !== true || f.size > 4) return;
  if (g === G_IN_PORT) {
    s.inPort = true;
    return;
  }
  let v = smallValue(e.value);
  const m = e.mask === undefined ? -1 : smallValue(e.mask);
  if (e.mask !== undefined) v = v & m;
  switch (g) {
    case G_ETH_TYPE:
      s.ethType = v;
      break;
    case G_IP_PROTO:
      s.ipProto = v;
      break;
    case G_VLAN:
      s.vlanTci = v;
      break;
    case G_TP_SRC:
      s.tpSrc = v;
      break;
    case G_TP_DST:
      s.tpDst = v;
      break;
    case G_IP_FRAG:
      s.ipFrag = v;
      break;
    case G_CT_STATE:
      s.ctState = v;
      s.ctStateMask = e.mask === undefined ? 0xffffffff : m;
      break;
    case G_PACKET_TYPE:
      // OVS `get_dl_type`: a packet type in the Ethertype namespace stands
      // for that eth_type in later prerequisite checks (OVS writes
      // `packet_type=(1,0x800),nw_src=...` with no eth_type TLV); any other
      // non-Ethernet type has no eth_type. PT_ETH (0) changes nothing.
      if (v !== 0) s.ethType = v >>> 16 === PT_NS_ETHERTYPE ? v & 0xffff : DL_TYPE_NONE;
      break;
  }
}

/** The flow state a whole match describes (for FLOW_MOD action checks). */
export function flowStateOf(m: Match, s: FlowState = newFlowState()): FlowState {
  resetFlowState(s);
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.field !== undefined) noteEntry(e, s);
  }
  return s;
}

/** OF1.1 `OFPMT_STANDARD`, which OVS still parses (88 bytes) where it reads OF1.1+ matches. */
const OFPMT_STANDARD = 0;
const OFP11_STANDARD_MATCH_SIZE = 88;

/** Prebuilt {@link DecodeMatchOptions} for the message decoders (no allocation per call). */
export const MATCH_OPTIONS = {
  /** FLOW_MOD / flow stats request, strict (OVS `ofputil_pull_ofp11_match`). */
  strictOfp11: { strict: true, ofp11: true },
  /** Switch output read through `ofputil_pull_ofp11_match` (flow removed, flow stats). */
  looseOfp11: { strict: false, ofp11: true },
  structuralOfp11: { strict: false, structural: true, ofp11: true },
  /** PACKET_IN (`oxm_pull_match_loose`). */
  loose: { strict: false },
  structural: { strict: false, structural: true },
} as const satisfies Record<string, DecodeMatchOptions>;

export interface DecodeMatchOptions {
  /** FLOW_MOD semantics (OVS `oxm_pull_match`): BAD_FIELD, BAD_PREREQ. */
  readonly strict: boolean;
  /**
   * Layout only ({@link MATCH_MODE}.STRUCTURAL): no value, mask, wildcard or
   * duplicate checks, unknown TLVs kept. Overrides `strict`.
   */
  readonly structural?: boolean;
  /**
   * Where OVS reads the match with `ofputil_pull_ofp11_match` (FLOW_MOD,
   * FLOW_REMOVED, flow/aggregate stats): type 0 is OF1.1's 88-byte standard
   * match, so any other length is OFPBMC_BAD_LEN rather than BAD_TYPE.
   */
  readonly ofp11?: boolean;
}

/**
 * Reads an `ofp_match` and its pad to 8 from `r`. `strict` = FLOW_MOD
 * semantics; otherwise loose (unknown fields kept, prerequisites unchecked);
 * `structural` = layout only. Entry values alias `r.buf` (oxm.ts `decodeOxmAt`).
 */
export function decodeMatch(r: Reader, options: DecodeMatchOptions): Match {
  const start = r.pos;
  if (r.remaining < MATCH_HEADER_SIZE) {
    throw new OfpError("OFPBMC_BAD_LEN", "match header truncated", { offset: start });
  }
  const buf = r.buf;
  const type = getU16(buf, start);
  const length = getU16(buf, start + 2);
  if (type !== OFPMT_OXM) {
    if (options.ofp11 === true && type === OFPMT_STANDARD && length !== OFP11_STANDARD_MATCH_SIZE) {
      throw new OfpError("OFPBMC_BAD_LEN", `OF1.1 standard match of length ${length}`, {
        offset: start,
      });
    }
    if (length < MATCH_HEADER_SIZE) {
      throw new OfpError("OFPBMC_BAD_LEN", `match length ${length} < 4`, { offset: start });
    }
    throw new OfpError("OFPBMC_BAD_TYPE", `match type ${type}`, { offset: start });
  }
  if (length < MATCH_HEADER_SIZE) {
    throw new OfpError("OFPBMC_BAD_LEN", `match length ${length} < 4`, { offset: start });
  }
  const padded = (length + 7) & ~7;
  if (padded > r.remaining) {
    throw new OfpError("OFPBMC_BAD_LEN", `match of ${padded} bytes overruns the message`, {
      offset: start,
    });
  }
  const mode: MatchMode =
    options.structural === true
      ? MATCH_MODE.STRUCTURAL
      : options.strict
        ? MATCH_MODE.STRICT
        : MATCH_MODE.LOOSE;
  const entries = decodeMatchEntries(buf, start + MATCH_HEADER_SIZE, start + length, mode);
  r.pos = start + padded;
  return { entries };
}

/**
 * Per-group "seen in this match" stamps for duplicate detection: O(1) per TLV
 * and no allocation (a group is a duplicate when its stamp equals the current one).
 */
const seen = new Uint32Array(groupCount());
let stamp = 0;

function groupCount(): number {
  let n = 0;
  for (const f of OXM_FIELDS) n = Math.max(n, f.group + 1);
  return n;
}

/**
 * The OXM TLVs in `[start, end)` of `buf` (an `ofp_match` body or an NXM
 * `nx_match`), with the match-level checks of `mode`: duplicates (LOOSE,
 * STRICT) and prerequisites in order (STRICT).
 */
export function decodeMatchEntries(
  buf: Uint8Array,
  start: number,
  end: number,
  mode: MatchMode,
): MatchEntry[] {
  if (mode === MATCH_MODE.STRICT) resetFlowState(state);
  if (start >= end) return [];
  // Sized up front (a pass over the TLV lengths is cheaper than growing an array).
  const entries: MatchEntry[] = new Array<MatchEntry>(countTlvs(buf, start, end));
  let n = 0;
  if (mode === MATCH_MODE.STRUCTURAL) {
    let at = start;
    while (at < end) {
      entries[n++] = decodeOxmAt(buf, at, end, mode);
      at = oxmCursor.next;
    }
    return entries;
  }
  const strict = mode === MATCH_MODE.STRICT;
  stamp = (stamp + 1) >>> 0;
  if (stamp === 0) {
    seen.fill(0);
    stamp = 1;
  }
  let at = start;
  while (at < end) {
    const e = decodeOxmAt(buf, at, end, mode);
    const tlvAt = at;
    at = oxmCursor.next;
    const f = e.field;
    if (f === undefined) {
      entries[n++] = e;
      continue;
    }
    if (strict && f.prereq !== "none" && !prereqSatisfied(f.prereq, state)) {
      throw new OfpError("OFPBMC_BAD_PREREQ", `${f.name} before its prerequisite`, {
        offset: tlvAt,
      });
    }
    if (seen[f.group] === stamp) {
      throw new OfpError("OFPBMC_DUP_FIELD", `${f.name} appears twice`, { offset: tlvAt });
    }
    seen[f.group] = stamp;
    if (strict) noteEntry(e, state);
    entries[n++] = e;
  }
  return entries;
}

/** How many TLVs `[start, end)` holds, judging by their lengths (decodeOxmAt checks them). */
function countTlvs(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let at = start; end - at >= 4; n++) at += 4 + buf[at + 3]!;
  return n;
}

/** Rank for canonical order: known fields by OVS order, unknown ones last (stable). */
function rank(e: MatchEntry): number {
  return e.field === undefined ? 0x7fffffff : e.field.order;
}

function isCanonical(entries: readonly MatchEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) {
    if (rank(entries[i - 1]!) > rank(entries[i]!)) return false;
  }
  return true;
}

/** The entries in OVS's canonical order (prerequisites first); stable for ties. */
export function canonicalOrder(entries: readonly MatchEntry[]): readonly MatchEntry[] {
  if (isCanonical(entries)) return entries;
  return entries
    .map((e, i) => [e, i] as const)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([e]) => e);
}

/**
 * The same match with its entries in OVS's canonical order (`nx_put_raw`):
 * prerequisites before their dependants, as OVS writes a match and as its
 * strict FLOW_MOD decoder requires. Builders (the flow-text parser, the
 * controller) call this; {@link encodeMatch} itself writes entries in the
 * order given, so decode∘encode is the identity. Returns `m` itself when it
 * is already canonical.
 */
export function canonicalMatch(m: Match): Match {
  const entries = canonicalOrder(m.entries);
  return entries === m.entries ? m : { entries };
}

/**
 * Writes `ofp_match` (type 1, length without pad) then zero pad to 8. Entries
 * go out in the order given, each with its own header (an NXM alias stays
 * NXM); use {@link canonicalMatch} for OVS's order.
 */
export function encodeMatch(w: Writer, m: Match): void {
  const tok = w.pos;
  w.u16(OFPMT_OXM).u16(0);
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) encodeOxmTlv(w, entries[i]!);
  w.endLengthAt(tok, 2, "excluded");
}

/** Encoded size of the match including its pad. */
export function matchSize(m: Match): number {
  let n = MATCH_HEADER_SIZE;
  for (const e of m.entries) n += oxmTlvSize(e);
  return (n + 7) & ~7;
}

/** Convenience: an entry for a known field (value/mask copied as given). */
export function entry(field: OxmField, value: Uint8Array, mask?: Uint8Array): OxmEntry {
  return { field, value, mask };
}

/** True when `f` is an OF1.3 basic-class field. */
export function isBasicField(f: OxmField): boolean {
  return f.oxmClass === OXM_CLASS.OPENFLOW_BASIC;
}
