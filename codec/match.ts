/**
 * `ofp_match` (OXM, type 1): decode with OVS's strict or loose semantics,
 * encode in OVS's canonical field order.
 *
 * Decode follows OVS `oxm_pull_match__` + `nx_pull_raw` (`lib/nx-match.c`):
 * - fewer than 4 bytes, `length` < 4, or the match padded to 8 overrunning
 *   the reader → OFPBMC_BAD_LEN; `type` ≠ 1 → OFPBMC_BAD_TYPE;
 * - per TLV (oxm.ts `decodeOxmTlv`): BAD_LEN, BAD_WILDCARDS, BAD_FIELD
 *   (strict; loose keeps an UnknownOxm), BAD_MASK, BAD_VALUE;
 * - strict only: a prerequisite not met by the fields *before* it →
 *   OFPBMC_BAD_PREREQ (order matters: `arp_tpa` before `eth_type` fails);
 * - both modes: a field whose storage is already matched → OFPBMC_DUP_FIELD.
 *
 * Strict is FLOW_MOD semantics (`oxm_pull_match`); loose is for what switches
 * send: packet-in, flow-removed, flow stats (`oxm_pull_match_loose`).
 */
import { OfpError } from "./errors.js";
import {
  OXM_CLASS,
  decodeOxmAt,
  encodeOxmTlv,
  fieldByName,
  oxmCursor,
  oxmTlvSize,
  smallValue,
  type Match,
  type MatchEntry,
  type OxmEntry,
  type OxmField,
  type Prereq,
} from "./oxm.js";
import type { Reader } from "./reader.js";
import type { Writer } from "./writer.js";

export type { Match, MatchEntry, OxmEntry, OxmField, UnknownOxm } from "./oxm.js";
export { decodeOxmTlv, encodeOxmTlv } from "./oxm.js";

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
 * What the fields decoded so far say about the packet, for prerequisite checks
 * (OVS checks against the partially built `struct match`; unset fields read 0).
 * One module-level instance, reset per decodeMatch: decode is synchronous and
 * never nests, and this keeps the hot path allocation-free.
 */
const state = {
  ethType: 0,
  ipProto: 0,
  tpSrc: 0, // icmp type
  tpDst: 0, // icmp code
  vlanTci: 0,
  ipFrag: 0,
  ctState: 0,
  ctStateMask: 0,
  inPort: false,
};

function resetState(): void {
  state.ethType = 0;
  state.ipProto = 0;
  state.tpSrc = 0;
  state.tpDst = 0;
  state.vlanTci = 0;
  state.ipFrag = 0;
  state.ctState = 0;
  state.ctStateMask = 0;
  state.inPort = false;
}

function isIpAny(): boolean {
  return state.ethType === ETH_TYPE.IPV4 || state.ethType === ETH_TYPE.IPV6;
}

/** OVS `mf_are_prereqs_ok__` over the fields seen so far. */
export function prereqSatisfied(p: Prereq): boolean {
  switch (p) {
    case "none":
      return true;
    case "in_port":
      return state.inPort;
    case "vlan_vid":
      return (state.vlanTci & OFPVID_PRESENT) !== 0;
    case "mpls":
      return state.ethType === ETH_TYPE.MPLS || state.ethType === ETH_TYPE.MPLS_MCAST;
    case "pbb":
      return state.ethType === ETH_TYPE.PBB;
    case "ipv4":
      return state.ethType === ETH_TYPE.IPV4;
    case "ipv6":
      return state.ethType === ETH_TYPE.IPV6;
    case "ip_any":
      return isIpAny();
    case "arp":
      return state.ethType === ETH_TYPE.ARP || state.ethType === ETH_TYPE.RARP;
    case "tcp":
      return isIpAny() && state.ipProto === IP_PROTO.TCP && !(state.ipFrag & FLOW_NW_FRAG_LATER);
    case "udp":
      return isIpAny() && state.ipProto === IP_PROTO.UDP && !(state.ipFrag & FLOW_NW_FRAG_LATER);
    case "sctp":
      return isIpAny() && state.ipProto === IP_PROTO.SCTP && !(state.ipFrag & FLOW_NW_FRAG_LATER);
    case "icmpv4":
      return state.ethType === ETH_TYPE.IPV4 && state.ipProto === IP_PROTO.ICMP;
    case "icmpv6":
      return state.ethType === ETH_TYPE.IPV6 && state.ipProto === IP_PROTO.ICMPV6;
    case "nd":
      return isNd();
    case "nd_solicit":
      return isNd() && state.tpSrc === ND_NEIGHBOR_SOLICIT;
    case "nd_advert":
      return isNd() && state.tpSrc === ND_NEIGHBOR_ADVERT;
    case "ct_valid":
      return (
        (state.ctState & CS_VALID_BITS) !== 0 ||
        ((state.ctState & CS_TRACKED) !== 0 &&
          (state.ctStateMask & CS_INVALID) !== 0 &&
          (state.ctState & CS_INVALID) === 0)
      );
  }
}

function isNd(): boolean {
  return (
    state.ethType === ETH_TYPE.IPV6 &&
    state.ipProto === IP_PROTO.ICMPV6 &&
    state.tpDst === 0 &&
    (state.tpSrc === ND_NEIGHBOR_SOLICIT || state.tpSrc === ND_NEIGHBOR_ADVERT)
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

/** Records what an accepted entry tells later prerequisite checks (value & mask, as OVS stores it). */
function noteEntry(e: OxmEntry): void {
  const f = e.field;
  if (f.size > 4) return;
  const g = f.group;
  if (
    g !== G_ETH_TYPE &&
    g !== G_IP_PROTO &&
    g !== G_VLAN &&
    g !== G_TP_SRC &&
    g !== G_TP_DST &&
    g !== G_IP_FRAG &&
    g !== G_CT_STATE &&
    g !== G_IN_PORT
  ) {
    return;
  }
  let v = smallValue(e.value);
  const m = e.mask === undefined ? -1 : smallValue(e.mask);
  if (e.mask !== undefined) v = v & m;
  switch (g) {
    case G_ETH_TYPE:
      state.ethType = v;
      break;
    case G_IP_PROTO:
      state.ipProto = v;
      break;
    case G_VLAN:
      state.vlanTci = v;
      break;
    case G_TP_SRC:
      state.tpSrc = v;
      break;
    case G_TP_DST:
      state.tpDst = v;
      break;
    case G_IP_FRAG:
      state.ipFrag = v;
      break;
    case G_CT_STATE:
      state.ctState = v;
      state.ctStateMask = e.mask === undefined ? 0xffffffff : m;
      break;
    case G_IN_PORT:
      state.inPort = true;
      break;
  }
}

/**
 * Reads an `ofp_match` and its pad to 8 from `r`. `strict` = FLOW_MOD
 * semantics; otherwise loose (unknown fields kept, prerequisites unchecked).
 */
export function decodeMatch(r: Reader, options: { strict: boolean }): Match {
  const start = r.pos;
  if (r.remaining < MATCH_HEADER_SIZE) {
    throw new OfpError("OFPBMC_BAD_LEN", "match header truncated", { offset: start });
  }
  const type = r.view.getUint16(start);
  const length = r.view.getUint16(start + 2);
  if (length < MATCH_HEADER_SIZE) {
    throw new OfpError("OFPBMC_BAD_LEN", `match length ${length} < 4`, { offset: start });
  }
  if (type !== OFPMT_OXM) {
    throw new OfpError("OFPBMC_BAD_TYPE", `match type ${type}`, { offset: start });
  }
  const padded = (length + 7) & ~7;
  if (padded > r.remaining) {
    throw new OfpError("OFPBMC_BAD_LEN", `match of ${padded} bytes overruns the message`, {
      offset: start,
    });
  }
  const strict = options.strict;
  const view = r.view;
  const buf = r.buf;
  const end = start + length;
  const entries: MatchEntry[] = [];
  resetState();
  let at = start + MATCH_HEADER_SIZE;
  while (at < end) {
    const e = decodeOxmAt(view, buf, at, end, strict);
    const tlvAt = at;
    at = oxmCursor.next;
    if (e.field === undefined) {
      entries.push(e);
      continue;
    }
    if (strict && !prereqSatisfied(e.field.prereq)) {
      throw new OfpError("OFPBMC_BAD_PREREQ", `${e.field.name} before its prerequisite`, {
        offset: tlvAt,
      });
    }
    const group = e.field.group;
    for (let i = 0; i < entries.length; i++) {
      const prev = entries[i]!;
      if (prev.field !== undefined && prev.field.group === group) {
        throw new OfpError("OFPBMC_DUP_FIELD", `${e.field.name} appears twice`, {
          offset: tlvAt,
        });
      }
    }
    noteEntry(e);
    entries.push(e);
  }
  r.pos = start + padded;
  return { entries };
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
 * Writes `ofp_match` (type 1, length without pad) then zero pad to 8. Fields
 * go in OVS's canonical order (`nx_put_raw`), so prerequisites precede their
 * dependants whatever order the caller used; each entry keeps its own header
 * (an NXM alias stays NXM).
 */
export function encodeMatch(w: Writer, m: Match): void {
  const tok = w.beginLength(2);
  w.u16(OFPMT_OXM).u16(0);
  const entries = canonicalOrder(m.entries);
  for (let i = 0; i < entries.length; i++) encodeOxmTlv(w, entries[i]!);
  w.endLength(tok, "excluded");
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
