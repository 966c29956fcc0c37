/**
 * OVS's flow/wildcards view of a match, which is what ovs-ofctl prints from and
 * parses into.
 *
 * OVS never prints OXM TLVs directly: it folds them into `struct match` (a
 * `struct flow` of values plus one of masks, `lib/match.c`), then
 * `match_format` walks that in a fixed order, and `nx_put_raw` writes OXM back
 * out in another fixed order. Aliases collapse (NXM_OF_ETH_SRC and
 * OXM_OF_ETH_SRC set the same slot), VLAN fields fold into one TCI, DSCP/ECN
 * into one TOS byte. Reproducing ovs-ofctl's text exactly therefore needs this
 * same intermediate model; it lives here, next to the text code that needs it.
 */
import { ones } from "./addr.js";
import { OFPP10, portFromOf11, portToOf11 } from "./ports.js";
import {
  SLOT_BITS,
  SLOTS,
  of13Header,
  textFieldByHeader,
  textFieldByName,
  type Slot,
  type TextField,
  type WireHeader,
} from "./fields.js";

/** Values and masks per slot; a zero mask means "wildcarded". */
export interface FlowMatch {
  readonly value: Record<Slot, bigint>;
  readonly mask: Record<Slot, bigint>;
  /**
   * OVS `match_set_default_packet_type`: set once any field with a
   * prerequisite (or a protocol shorthand) was given. When such a match ends
   * up with no prerequisite-bearing TLV, OVS writes `packet_type=eth`
   * explicitly (nx_put_raw's `implied_ethernet`).
   */
  readonly meta: {
    ethernet: boolean;
    innerVlan?: boolean;
    /** Second 802.1Q TCI, exact (only packet descriptions set it: OVS `flow.vlans[1]`). */
    vlanTci1?: bigint;
    /** MPLS label stack entries after the first, exact (packet descriptions: `mpls_lse1`, `mpls_lse2`). */
    mplsLse?: readonly bigint[];
    /** Matched `tun_metadata<i>` fields by index (OVS `match->tun_md`). */
    tunMetadata?: (TunMetadata | undefined)[];
  };
}

/**
 * A matched tun_metadata field: value and mask over `len` bytes. Without a
 * TLV map OVS takes `len` from the value (and mask) it parses, or from the
 * TLV it decodes (`tun_metadata_set_match`, `mf_field_len`).
 */
export interface TunMetadata {
  readonly value: bigint;
  readonly mask: bigint;
  readonly len: number;
  /** Written with a mask (the parsed mask was not all ones, or the TLV had one). */
  readonly masked: boolean;
}

/** One OXM/NXM TLV in the text layer's terms (value/mask as width-sized bigints). */
export interface WireEntry {
  readonly header: WireHeader;
  readonly field: TextField;
  readonly value: bigint;
  readonly mask: bigint | undefined;
  /** Value width in bytes when not the field's (variable-width tun_metadata). */
  readonly width?: number;
}

/** Bytes a value needs (OVS `field_len`: leading zero bytes dropped; 0 for zero). */
export function significantBytes(v: bigint): number {
  let n = 0;
  for (let x = v; x > 0n; x >>= 8n) n++;
  return n;
}

/**
 * `tun_metadata_set_match` without a TLV map: the width is what the value
 * needs, or the mask when the match is masked (`mf_field_len`); a field set
 * twice is refused.
 */
export function setTunMetadata(
  m: FlowMatch,
  f: TextField,
  index: number,
  value: bigint,
  mask: bigint | undefined,
): string | undefined {
  const all = m.meta.tunMetadata ?? (m.meta.tunMetadata = []);
  if (all[index] !== undefined) return `field ${f.name} set multiple times`;
  const masked = mask !== undefined && mask !== ones(f.bytes * 8);
  const len = masked
    ? Math.max(significantBytes(value), significantBytes(mask))
    : significantBytes(value);
  const full = ones(len * 8);
  const k = masked ? mask & full : full;
  all[index] = { value: value & k, mask: k, len, masked };
  return undefined;
}

export const ETH_TYPE = {
  IP: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MCAST: 0x8848,
} as const;
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132, ICMPV6: 58 } as const;
export const VLAN = { VID_MASK: 0x0fff, CFI: 0x1000, PCP_MASK: 0xe000, PCP_SHIFT: 13 } as const;
export const ND = { SOLICIT: 135, ADVERT: 136 } as const;
/** FLOW_TNL_PUB_F_MASK: the tunnel flags a match may name (OAM). */
const TUN_FLAGS_PUBLIC = 0x1n;
/** `FLOW_NW_FRAG_ANY` / `FLOW_NW_FRAG_LATER`. */
export const FRAG = { ANY: 1, LATER: 2, MASK: 3 } as const;

export function emptyFlowMatch(): FlowMatch {
  const value = {} as Record<Slot, bigint>;
  const mask = {} as Record<Slot, bigint>;
  for (const s of SLOTS) {
    value[s] = 0n;
    mask[s] = 0n;
  }
  return { value, mask, meta: { ethernet: false } };
}

export function cloneFlowMatch(m: FlowMatch): FlowMatch {
  const meta = { ...m.meta };
  if (m.meta.tunMetadata !== undefined) meta.tunMetadata = m.meta.tunMetadata.slice();
  return { value: { ...m.value }, mask: { ...m.mask }, meta };
}

/** Sets slot bits `mask` to `value & mask`, leaving the other bits alone. */
function setBits(m: FlowMatch, slot: Slot, value: bigint, mask: bigint): void {
  m.value[slot] = (m.value[slot] & ~mask) | (value & mask);
  m.mask[slot] = (m.mask[slot] & ~mask) | mask;
}

/** Replaces the whole slot. */
function setSlot(m: FlowMatch, slot: Slot, value: bigint, mask: bigint): void {
  m.mask[slot] = mask;
  m.value[slot] = value & mask;
}

/**
 * OVS `mf_set`: applies `field = value/mask` to the match. `mask` undefined
 * means exact. A zero mask wildcards the field (`mf_set_wild`).
 * Returns an error string for values the field cannot hold.
 */
export function setField(
  m: FlowMatch,
  f: TextField,
  value: bigint,
  mask: bigint | undefined,
): string | undefined {
  const full = ones(f.bytes * 8);
  const exact = mask === undefined || mask === full;
  const wild = mask === 0n;
  const map = f.map;
  if (f.prereq !== "none") m.meta.ethernet = true;
  switch (map.kind) {
    case "plain": {
      const width = ones(SLOT_BITS[map.slot]);
      if (map.slot === "ipv6_label") {
        // match_set_ipv6_label: an exact label has an all-ones mask.
        if (exact || ((mask ?? 0n) & 0xfffffn) === 0xfffffn)
          setSlot(m, map.slot, value & 0xfffffn, width);
        else setSlot(m, map.slot, value, mask ?? width);
      } else if (map.slot === "tun_flags") {
        // match_set_tun_flags_masked: only the public flags (OAM) are kept,
        // so an exact match stores mask 0x0001 and goes out masked.
        setSlot(m, map.slot, value, (exact ? width : (mask ?? 0n)) & TUN_FLAGS_PUBLIC);
      } else if (map.slot === "nw_frag") {
        setSlot(m, map.slot, value, (exact ? 0xffn : (mask ?? 0n)) & BigInt(FRAG.MASK));
      } else {
        setSlot(m, map.slot, value, exact ? width : (mask ?? 0n));
      }
      return undefined;
    }
    case "port16":
    case "port32": {
      if (wild) {
        setSlot(m, map.slot, 0n, 0n);
        return undefined;
      }
      let port = Number(value);
      if (map.kind === "port32") {
        const p = portFromOf11(port);
        if (p === undefined) return `port ${port} is outside the supported range`;
        port = p;
      }
      setSlot(m, map.slot, BigInt(port), 0xffffn);
      return undefined;
    }
    case "low8":
      setSlot(m, map.slot, value & 0xffn, wild ? 0n : 0xffn);
      return undefined;
    case "u8_in_u16":
      setSlot(m, map.slot, value & 0xffn, wild ? 0n : 0xffffn);
      return undefined;
    case "bits": {
      const fieldMask = ones(map.width) << BigInt(map.shift);
      if (wild) {
        m.mask[map.slot] &= ~fieldMask;
        m.value[map.slot] &= ~fieldMask;
        return undefined;
      }
      // nw_tos (MFF_IP_DSCP) is the whole byte but only its DSCP bits count.
      const effective = f.name === "nw_tos" ? 0xfcn : fieldMask;
      setBits(m, map.slot, (value << BigInt(map.shift)) & effective, effective);
      return undefined;
    }
    case "dl_vlan": {
      if (wild) {
        anyVid(m);
        return undefined;
      }
      // OFP10_VLAN_NONE (0xffff) means "no 802.1Q header".
      if (value === 0xffffn) setSlot(m, "vlan_tci", 0n, 0xffffn);
      else
        setBits(
          m,
          "vlan_tci",
          (value & BigInt(VLAN.VID_MASK)) | BigInt(VLAN.CFI),
          BigInt(VLAN.VID_MASK | VLAN.CFI),
        );
      return undefined;
    }
    case "vlan_vid": {
      // match_set_vlan_vid_masked: the OXM field includes OFPVID_PRESENT (CFI).
      const vidCfi = BigInt(VLAN.VID_MASK | VLAN.CFI);
      const mk = (exact ? vidCfi : (mask ?? 0n)) & vidCfi;
      const pcpMask = m.mask.vlan_tci & BigInt(VLAN.PCP_MASK);
      m.value.vlan_tci = (m.value.vlan_tci & BigInt(VLAN.PCP_MASK)) | (value & mk);
      m.mask.vlan_tci = mk | pcpMask;
      return undefined;
    }
    case "tun_metadata":
      return setTunMetadata(m, f, map.index, value, mask);
    case "regs": {
      // match_set_xreg_masked / match_set_xxreg_masked: each word keeps its own mask.
      const m32 = mask ?? full;
      for (let j = 0; j < map.count; j++) {
        const shift = BigInt(32 * (map.count - 1 - j));
        const slot = `reg${map.first + j}` as Slot;
        setSlot(m, slot, (value >> shift) & 0xffffffffn, (m32 >> shift) & 0xffffffffn);
      }
      return undefined;
    }
    case "dl_vlan_pcp": {
      if (wild) {
        m.mask.vlan_tci &= ~BigInt(VLAN.PCP_MASK);
        m.value.vlan_tci &= ~BigInt(VLAN.PCP_MASK);
        return undefined;
      }
      setBits(
        m,
        "vlan_tci",
        ((value & 7n) << BigInt(VLAN.PCP_SHIFT)) | BigInt(VLAN.CFI),
        BigInt(VLAN.PCP_MASK | VLAN.CFI),
      );
      return undefined;
    }
  }
}

/**
 * `flow_push_vlan_uninit` + `check_PUSH_VLAN` on the check-time flow: OVS
 * tracks two VLAN headers; a third is OFPBAC_BAD_TAG (returned as a string).
 */
export function pushVlanCheck(m: FlowMatch): string | undefined {
  if (m.meta.innerVlan === true) return "OFPBAC_BAD_TAG";
  m.meta.innerVlan = (m.value.vlan_tci & BigInt(VLAN.CFI)) !== 0n;
  m.value.vlan_tci = BigInt(VLAN.CFI);
  return undefined;
}

/** `flow_pop_vlan` on the check-time flow. */
export function popVlanCheck(m: FlowMatch): void {
  m.value.vlan_tci = m.meta.innerVlan === true ? BigInt(VLAN.CFI) : 0n;
  m.meta.innerVlan = false;
}

/** `match_set_any_vid`. */
function anyVid(m: FlowMatch): void {
  if ((m.mask.vlan_tci & BigInt(VLAN.PCP_MASK)) !== 0n) {
    m.mask.vlan_tci &= ~BigInt(VLAN.VID_MASK);
    m.value.vlan_tci &= ~BigInt(VLAN.VID_MASK);
  } else {
    setSlot(m, "vlan_tci", 0n, 0n);
  }
}

/** Reads a field's value/mask from the match (`mf_get`), for learn/set_field checks. */
export function getField(m: FlowMatch, f: TextField): { value: bigint; mask: bigint } {
  const map = f.map;
  switch (map.kind) {
    case "plain":
    case "port16":
      return { value: m.value[map.slot], mask: m.mask[map.slot] };
    case "port32":
      return {
        value: BigInt(portToOf11(Number(m.value[map.slot]))),
        mask: m.mask[map.slot] === 0n ? 0n : 0xffffffffn,
      };
    case "low8":
    case "u8_in_u16":
      return { value: m.value[map.slot] & 0xffn, mask: m.mask[map.slot] & 0xffn };
    case "bits": {
      const fm = ones(map.width);
      const sh = BigInt(map.shift);
      return { value: (m.value[map.slot] >> sh) & fm, mask: (m.mask[map.slot] >> sh) & fm };
    }
    case "dl_vlan":
      return {
        value: m.value.vlan_tci & BigInt(VLAN.VID_MASK),
        mask: m.mask.vlan_tci & BigInt(VLAN.VID_MASK),
      };
    case "vlan_vid": {
      const vc = BigInt(VLAN.VID_MASK | VLAN.CFI);
      return { value: m.value.vlan_tci & vc, mask: m.mask.vlan_tci & vc };
    }
    case "dl_vlan_pcp":
      return { value: (m.value.vlan_tci >> 13n) & 7n, mask: (m.mask.vlan_tci >> 13n) & 7n };
    case "tun_metadata": {
      const t = m.meta.tunMetadata?.[map.index];
      return t === undefined ? { value: 0n, mask: 0n } : { value: t.value, mask: t.mask };
    }
    case "regs": {
      let value = 0n;
      let mask = 0n;
      for (let j = 0; j < map.count; j++) {
        const slot = `reg${map.first + j}` as Slot;
        value = (value << 32n) | m.value[slot];
        mask = (mask << 32n) | m.mask[slot];
      }
      return { value, mask };
    }
  }
}

// ---------------------------------------------------------------------------
// Predicates OVS uses (lib/flow.h), on the match's values.

/** `OFPHTN_ETHERTYPE`: the packet_type namespace whose types are Ethertypes. */
export const PT_NS_ETHERTYPE = 1;
/** OVS `FLOW_DL_TYPE_NONE`. */
const DL_TYPE_NONE = 0x5ff;

/**
 * OVS `get_dl_type`: the Ethertype prerequisites see. A packet type in the
 * Ethertype namespace (`packet_type=(1,0x800)`) stands for that eth_type;
 * other non-Ethernet packet types have none; PT_ETH (0) uses dl_type.
 */
export function dlType(m: FlowMatch): number {
  const pt = Number(m.value.packet_type);
  if (m.mask.packet_type === 0n || pt === 0) return Number(m.value.dl_type);
  return pt >>> 16 === PT_NS_ETHERTYPE ? pt & 0xffff : DL_TYPE_NONE;
}

/**
 * OVS `match_has_default_packet_type`: the match is for Ethernet packets,
 * either explicitly (`eth`, `packet_type=(0,0)`) or because a field with a
 * prerequisite set it (`match_set_default_packet_type`).
 */
export function hasDefaultPacketType(m: FlowMatch): boolean {
  return m.mask.packet_type !== 0n ? m.value.packet_type === 0n : m.meta.ethernet;
}
export function isIpAny(m: FlowMatch): boolean {
  const t = dlType(m);
  return t === ETH_TYPE.IP || t === ETH_TYPE.IPV6;
}
export function isArp(m: FlowMatch): boolean {
  const t = dlType(m);
  return t === ETH_TYPE.ARP || t === ETH_TYPE.RARP;
}
export function isMpls(m: FlowMatch): boolean {
  const t = dlType(m);
  return t === ETH_TYPE.MPLS || t === ETH_TYPE.MPLS_MCAST;
}
function nwProto(m: FlowMatch): number {
  return Number(m.value.nw_proto);
}
export function isIcmpv4(m: FlowMatch): boolean {
  return dlType(m) === ETH_TYPE.IP && nwProto(m) === IP_PROTO.ICMP;
}
export function isIcmpv6(m: FlowMatch): boolean {
  return dlType(m) === ETH_TYPE.IPV6 && nwProto(m) === IP_PROTO.ICMPV6;
}
/** `is_nd`: ICMPv6 type 135/136 with code 0. */
export function isNd(m: FlowMatch): boolean {
  const t = Number(m.value.tp_src);
  return isIcmpv6(m) && m.value.tp_dst === 0n && (t === ND.SOLICIT || t === ND.ADVERT);
}

/** `mf_are_prereqs_ok` for a field against the match's values. */
export function prereqsOk(m: FlowMatch, f: TextField): boolean {
  const later = (m.value.nw_frag & BigInt(FRAG.LATER)) !== 0n;
  switch (f.prereq) {
    case "none":
    case "ethernet":
      return true;
    case "arp":
      return isArp(m);
    case "ipv4":
      return dlType(m) === ETH_TYPE.IP;
    case "ipv6":
      return dlType(m) === ETH_TYPE.IPV6;
    case "ip_any":
      return isIpAny(m);
    case "vlan_vid":
      return (m.value.vlan_tci & BigInt(VLAN.CFI)) !== 0n;
    case "mpls":
      return isMpls(m);
    case "tcp":
      return isIpAny(m) && nwProto(m) === IP_PROTO.TCP && !later;
    case "udp":
      return isIpAny(m) && nwProto(m) === IP_PROTO.UDP && !later;
    case "sctp":
      return isIpAny(m) && nwProto(m) === IP_PROTO.SCTP && !later;
    case "icmpv4":
      return isIcmpv4(m);
    case "icmpv6":
      return isIcmpv6(m);
    case "nd":
      return isNd(m);
    case "nd_solicit":
      return isNd(m) && Number(m.value.tp_src) === ND.SOLICIT;
    case "nd_advert":
      return isNd(m) && Number(m.value.tp_src) === ND.ADVERT;
    case "ct":
      // is_ct_valid: ct_state must be matched as tracked and not invalid.
      return (m.mask.ct_state & 0x21n) === 0x21n && (m.value.ct_state & 0x21n) === 0x01n;
  }
}

// ---------------------------------------------------------------------------
// Wire entries → model (the decode side of ofp-print / dump-flows).

/**
 * Folds decoded TLVs into the model as OVS's `nx_pull_raw` + `mf_set` would.
 * Unknown headers are ignored (loose decoding); callers that need strictness
 * validate before this.
 */
export function flowMatchFromEntries(entries: readonly WireEntry[]): FlowMatch {
  const m = emptyFlowMatch();
  for (const e of entries) setField(m, e.field, e.value, e.mask);
  return m;
}

/** Resolves a decoded TLV header to the text-layer field, if known. */
export function textFieldForHeader(
  oxmClass: number,
  oxmField: number,
  experimenter?: number,
): TextField | undefined {
  return textFieldByHeader(oxmClass, oxmField, experimenter);
}

// ---------------------------------------------------------------------------
// Model → wire entries, in `nx_put_raw` order for OpenFlow 1.3.

function fieldNamed(name: string): TextField {
  const f = textFieldByName(name);
  if (f === undefined) throw new Error(`text field table lacks ${name}`);
  return f;
}

/**
 * Emits `value/mask` for `name` in its OF1.3 header: nothing when the mask is
 * zero, no mask when it is all-ones (`nxm_put`).
 */
function put(
  out: WireEntry[],
  name: string,
  value: bigint,
  mask: bigint,
  forceExact = false,
): void {
  const f = fieldNamed(name);
  if (mask === 0n) return;
  const header = of13Header(f);
  if (header === undefined) return;
  const full = ones(f.bytes * 8);
  const exact = forceExact || mask === full;
  out.push({
    header,
    field: f,
    value: exact ? value & full : value & mask,
    mask: exact ? undefined : mask,
  });
}

/**
 * The OXM TLVs OVS 3.1 writes for this match in an OF1.3 message, in its
 * order. Fields whose prerequisites the match lacks are simply not written,
 * which is OVS's "normalization".
 */
export function flowMatchToEntries(m: FlowMatch): WireEntry[] {
  const out: WireEntry[] = [];
  const v = m.value;
  const k = m.mask;
  const exactPut = (name: string, value: bigint, mask: bigint): void => {
    if (mask !== 0n) put(out, name, value, mask, true);
  };
  // OpenFlow packet type: "Must be first" (nx_put_raw), when not Ethernet.
  if (k.packet_type !== 0n && !hasDefaultPacketType(m)) {
    exactPut("packet_type", v.packet_type, k.packet_type);
  }
  exactPut("recirc_id", v.recirc_id, k.recirc_id);
  exactPut("conj_id", v.conj_id, k.conj_id);
  if (k.in_port !== 0n) put(out, "in_port_oxm", BigInt(portToOf11(Number(v.in_port))), 0xffffffffn);
  if (k.actset_output !== 0n)
    put(out, "actset_output", BigInt(portToOf11(Number(v.actset_output))), 0xffffffffn);
  put(out, "eth_src", v.dl_src, k.dl_src);
  put(out, "eth_dst", v.dl_dst, k.dl_dst);
  // ofputil_dl_type_to_openflow: non-Ethernet-II frames travel as 0x05ff.
  put(out, "eth_type", v.dl_type < 0x600n ? 0x5ffn : v.dl_type, k.dl_type);

  const vidCfi = BigInt(VLAN.VID_MASK | VLAN.CFI);
  const vid = v.vlan_tci & vidCfi;
  const vidMask = k.vlan_tci & vidCfi;
  if (vidMask === vidCfi) put(out, "vlan_vid", vid, vidCfi, true);
  else if (vidMask !== 0n) put(out, "vlan_vid", vid, vidMask);
  if (vid !== 0n && (k.vlan_tci & BigInt(VLAN.PCP_MASK)) !== 0n) {
    exactPut("vlan_pcp", (v.vlan_tci >> 13n) & 7n, 0xffn);
  }

  const t = dlType(m);
  if (isMpls(m)) {
    const lse = v.mpls_lse;
    const lm = k.mpls_lse;
    if ((lm & 0xe00n) !== 0n) exactPut("mpls_tc", (lse >> 9n) & 7n, 0xffn);
    if ((lm & 0x100n) !== 0n) exactPut("mpls_bos", (lse >> 8n) & 1n, 0xffn);
    if ((lm & 0xffn) !== 0n) exactPut("mpls_ttl", lse & 0xffn, 0xffn);
    if ((lm & 0xfffff000n) !== 0n) exactPut("mpls_label", lse >> 12n, 0xffffffffn);
  }

  if (isIpAny(m)) {
    if (t === ETH_TYPE.IP) {
      put(out, "ip_src", v.nw_src, k.nw_src);
      put(out, "ip_dst", v.nw_dst, k.nw_dst);
    } else {
      put(out, "ipv6_src", v.ipv6_src, k.ipv6_src);
      put(out, "ipv6_dst", v.ipv6_dst, k.ipv6_dst);
    }
    // nxm_put_frag: exact when both frag bits are matched.
    const fragMask = k.nw_frag & BigInt(FRAG.MASK);
    if (fragMask !== 0n) {
      if (fragMask === BigInt(FRAG.MASK)) put(out, "ip_frag", v.nw_frag & fragMask, 0xffn, true);
      else put(out, "ip_frag", v.nw_frag & fragMask, fragMask);
    }
    if ((k.nw_tos & 0xfcn) !== 0n) exactPut("ip_dscp", v.nw_tos >> 2n, 0xffn);
    if ((k.nw_tos & 0x03n) !== 0n) exactPut("nw_ecn", v.nw_tos & 3n, 0xffn);
    if (k.nw_ttl !== 0n) exactPut("nw_ttl", v.nw_ttl, 0xffn);
    put(out, "ipv6_label", v.ipv6_label, k.ipv6_label);
    if (k.nw_proto !== 0n) {
      exactPut("nw_proto", v.nw_proto, 0xffn);
      const p = Number(v.nw_proto);
      if (p === IP_PROTO.TCP) {
        put(out, "tcp_src", v.tp_src, k.tp_src);
        put(out, "tcp_dst", v.tp_dst, k.tp_dst);
        put(out, "tcp_flags", v.tcp_flags, k.tcp_flags);
      } else if (p === IP_PROTO.UDP) {
        put(out, "udp_src", v.tp_src, k.tp_src);
        put(out, "udp_dst", v.tp_dst, k.tp_dst);
      } else if (p === IP_PROTO.SCTP) {
        put(out, "sctp_src", v.tp_src, k.tp_src);
        put(out, "sctp_dst", v.tp_dst, k.tp_dst);
      } else if (isIcmpv4(m)) {
        if (k.tp_src !== 0n) exactPut("icmp_type", v.tp_src & 0xffn, 0xffn);
        if (k.tp_dst !== 0n) exactPut("icmp_code", v.tp_dst & 0xffn, 0xffn);
      } else if (isIcmpv6(m)) {
        if (k.tp_src !== 0n) exactPut("icmpv6_type", v.tp_src & 0xffn, 0xffn);
        if (k.tp_dst !== 0n) exactPut("icmpv6_code", v.tp_dst & 0xffn, 0xffn);
        if (isNd(m)) {
          put(out, "nd_target", v.nd_target, k.nd_target);
          if (Number(v.tp_src) === ND.SOLICIT) put(out, "nd_sll", v.arp_sha, k.arp_sha);
          if (Number(v.tp_src) === ND.ADVERT) put(out, "nd_tll", v.arp_tha, k.arp_tha);
        }
      }
    }
  } else if (isArp(m)) {
    if (k.nw_proto !== 0n) exactPut("arp_op", v.nw_proto, 0xffffn);
    put(out, "arp_spa", v.nw_src, k.nw_src);
    put(out, "arp_tpa", v.nw_dst, k.nw_dst);
    put(out, "arp_sha", v.arp_sha, k.arp_sha);
    put(out, "arp_tha", v.arp_tha, k.arp_tha);
  }

  put(out, "tun_id", v.tun_id, k.tun_id);
  put(out, "tun_flags", v.tun_flags, k.tun_flags);
  put(out, "tun_src", v.tun_src, k.tun_src);
  put(out, "tun_dst", v.tun_dst, k.tun_dst);
  put(out, "tun_ipv6_src", v.tun_ipv6_src, k.tun_ipv6_src);
  put(out, "tun_ipv6_dst", v.tun_ipv6_dst, k.tun_ipv6_dst);
  put(out, "tun_gbp_id", v.tun_gbp_id, k.tun_gbp_id);
  put(out, "tun_gbp_flags", v.tun_gbp_flags, k.tun_gbp_flags);
  // tun_metadata_to_nx_match: each present field at its own width, masked
  // unless the mask is all ones over that width.
  (m.meta.tunMetadata ?? []).forEach((t, i) => {
    if (t === undefined) return;
    const f = fieldNamed(`tun_metadata${i}`);
    const header = of13Header(f)!;
    out.push({
      header,
      field: f,
      value: t.value,
      mask: t.masked ? t.mask : undefined,
      width: t.len,
    });
  });
  for (let i = 0; i < 16; i++) {
    const s = `reg${i}` as Slot;
    put(out, s, v[s], k[s]);
  }
  put(out, "pkt_mark", v.pkt_mark, k.pkt_mark);
  put(out, "ct_state", v.ct_state, k.ct_state);
  put(out, "ct_zone", v.ct_zone, k.ct_zone);
  put(out, "ct_mark", v.ct_mark, k.ct_mark);
  put(out, "ct_label", v.ct_label, k.ct_label);
  put(out, "ct_nw_src", v.ct_nw_src, k.ct_nw_src);
  put(out, "ct_ipv6_src", v.ct_ipv6_src, k.ct_ipv6_src);
  put(out, "ct_nw_dst", v.ct_nw_dst, k.ct_nw_dst);
  put(out, "ct_ipv6_dst", v.ct_ipv6_dst, k.ct_ipv6_dst);
  if (v.ct_nw_proto !== 0n) {
    put(out, "ct_nw_proto", v.ct_nw_proto, k.ct_nw_proto);
    put(out, "ct_tp_src", v.ct_tp_src, k.ct_tp_src);
    put(out, "ct_tp_dst", v.ct_tp_dst, k.ct_tp_dst);
  }
  put(out, "metadata", v.metadata, k.metadata);
  // `implied_ethernet`: an Ethernet match that no written field implies says
  // so with an explicit packet_type=eth, inserted first.
  if (hasDefaultPacketType(m) && !out.some((e) => e.field.prereq !== "none")) {
    const pt: WireEntry[] = [];
    put(pt, "packet_type", 0n, 0xffffffffn, true);
    out.unshift(...pt);
  }
  return out;
}

/** True when `in_port` is matched against `port`. */
export function matchesInPort(m: FlowMatch, port: number): boolean {
  return m.mask.in_port !== 0n && Number(m.value.in_port) === port;
}

export { OFPP10 };
