/**
 * A packet's FlowKey in OVS's `flow_format` text (the `Flow:` and
 * `Final flow:` lines of ofproto/trace).
 *
 * OVS prints a flow as the exact match of that packet
 * (`match_init_exact` → `flow_wildcards_init_for_packet`): every field the
 * packet's protocols define, zeros included (`vlan_tci=0x0000`,
 * `nw_tos=0`), plus metadata, registers and tunnel fields only when set.
 * We build that match in the text layer's flow/wildcards form and let the
 * shared printer (codec/text `formatFlowMatch`) lay it out, so field order and
 * shorthands (`udp`, `arp`, `dl_vlan=`) are the same code that prints
 * dump-flows.
 */
import { emptyFlowMatch, type FlowMatch } from "../codec/text/flow-match.js";
import { formatFlowMatch } from "../codec/text/match-format.js";
import type { Slot } from "../codec/text/fields.js";
import { ETH_TYPE, IP_PROTO, VLAN } from "../codec/packet/constants.js";
import { FK, type FlowKey } from "../codec/packet/flow-key.js";

const OFPP11_OFFSET = 0xffff0000;

function big(v: number): bigint {
  return BigInt(v >>> 0);
}

function words(w: Uint32Array, first: number, count: number): bigint {
  let v = 0n;
  for (let i = 0; i < count; i++) v = (v << 32n) | big(w[first + i]!);
  return v;
}

function set(m: FlowMatch, slot: Slot, value: bigint, bits: number): void {
  const mask = (1n << BigInt(bits)) - 1n;
  m.value[slot] = value & mask;
  m.mask[slot] = mask;
}

/** The FlowMatch OVS would print for this packet key. */
export function flowMatchOfKey(key: FlowKey): FlowMatch {
  const w = key.w;
  const m = emptyFlowMatch();
  const inPort = w[FK.IN_PORT]!;
  set(m, "in_port", big(inPort >= 0xffffff00 ? inPort - OFPP11_OFFSET : inPort), 16);
  const md = words(w, FK.METADATA_HI, 2);
  if (md !== 0n) set(m, "metadata", md, 64);
  for (let i = 0; i < 16; i++) {
    if (w[FK.REG0 + i] !== 0) set(m, `reg${i}` as Slot, big(w[FK.REG0 + i]!), 32);
  }
  if (w[FK.PKT_MARK] !== 0) set(m, "pkt_mark", big(w[FK.PKT_MARK]!), 32);
  const tunId = words(w, FK.TUN_ID_HI, 2);
  if (tunId !== 0n || w[FK.TUN_SRC] !== 0 || w[FK.TUN_DST] !== 0) {
    set(m, "tun_id", tunId, 64);
    if (w[FK.TUN_SRC] !== 0) set(m, "tun_src", big(w[FK.TUN_SRC]!), 32);
    if (w[FK.TUN_DST] !== 0) set(m, "tun_dst", big(w[FK.TUN_DST]!), 32);
  }
  set(m, "dl_src", words(w, FK.ETH_SRC_HI, 2), 48);
  set(m, "dl_dst", words(w, FK.ETH_DST_HI, 2), 48);
  const et = w[FK.ETH_TYPE]!;
  set(m, "dl_type", big(et), 16);
  const tci = w[FK.VLAN_TCI]!;
  set(m, "vlan_tci", big(tci), 16);
  if ((tci & VLAN.CFI) !== 0) m.meta.vlanTci1 = big(w[FK.VLAN_TCI2]!);
  m.meta.ethernet = true;
  const proto = w[FK.NW_PROTO]!;
  if (et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6) {
    if (et === ETH_TYPE.IPV4) {
      set(m, "nw_src", big(w[FK.NW_SRC]!), 32);
      set(m, "nw_dst", big(w[FK.NW_DST]!), 32);
    } else {
      set(m, "ipv6_src", words(w, FK.IPV6_SRC0, 4), 128);
      set(m, "ipv6_dst", words(w, FK.IPV6_DST0, 4), 128);
      set(m, "ipv6_label", big(w[FK.IPV6_LABEL]!), 20);
      m.mask.ipv6_label = 0xffffffffn;
    }
    set(m, "nw_proto", big(proto), 8);
    set(m, "nw_tos", big(w[FK.NW_TOS]!), 8);
    set(m, "nw_ttl", big(w[FK.NW_TTL]!), 8);
    set(m, "nw_frag", big(w[FK.NW_FRAG]!), 8);
    m.mask.nw_frag = 3n;
    const later = (w[FK.NW_FRAG]! & 2) !== 0;
    if (!later) {
      if (proto === IP_PROTO.TCP || proto === IP_PROTO.UDP || proto === IP_PROTO.SCTP) {
        set(m, "tp_src", big(w[FK.TP_SRC]!), 16);
        set(m, "tp_dst", big(w[FK.TP_DST]!), 16);
        if (proto === IP_PROTO.TCP) set(m, "tcp_flags", big(w[FK.TCP_FLAGS]!), 12);
      } else if (
        (proto === IP_PROTO.ICMP && et === ETH_TYPE.IPV4) ||
        (proto === IP_PROTO.ICMPV6 && et === ETH_TYPE.IPV6)
      ) {
        set(m, "tp_src", big(w[FK.ICMP_TYPE]!), 16);
        set(m, "tp_dst", big(w[FK.ICMP_CODE]!), 16);
        const t = w[FK.ICMP_TYPE];
        if (et === ETH_TYPE.IPV6 && (t === 135 || t === 136)) {
          set(m, "nd_target", words(w, FK.ND_TARGET0, 4), 128);
          set(m, "arp_sha", words(w, FK.ND_SLL_HI, 2), 48);
          set(m, "arp_tha", words(w, FK.ND_TLL_HI, 2), 48);
        }
      }
    }
  } else if (et === ETH_TYPE.ARP || et === ETH_TYPE.RARP) {
    set(m, "nw_src", big(w[FK.ARP_SPA]!), 32);
    set(m, "nw_dst", big(w[FK.ARP_TPA]!), 32);
    set(m, "nw_proto", big(w[FK.ARP_OP]!), 8);
    set(m, "arp_sha", words(w, FK.ARP_SHA_HI, 2), 48);
    set(m, "arp_tha", words(w, FK.ARP_THA_HI, 2), 48);
  }
  return m;
}

/** `flow_format` of a packet key. */
export function formatFlowKey(key: FlowKey): string {
  return formatFlowMatch(flowMatchOfKey(key));
}
