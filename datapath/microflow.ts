/**
 * A packet from a microflow in `ovs-appctl ofproto/trace` syntax
 * (`in_port=1,dl_src=…,dl_dst=…,ip,nw_src=…,nw_dst=…,nw_ttl=64`), for
 * `dvrflow trace`: the fields are parsed by the text layer's flow parser, and
 * a frame is composed that carries exactly those header values, every
 * unspecified field zero — as OVS's `flow_compose` does for ofproto/trace, so
 * the traced `Flow:` line prints the same values OVS prints.
 *
 * Built: Ethernet (+ one 802.1Q tag when vlan_tci has the CFI bit), then by
 * dl_type: IPv4 or IPv6 with TCP, UDP, SCTP, ICMP/ICMPv6 (type/code from
 * tp_src/tp_dst; ND target and link-layer options for ND), or ARP (op from
 * nw_proto, addresses from nw_src/nw_dst and arp_sha/arp_tha). IPv4 later
 * fragments (nw_frag=later) carry no L4 header. Checksums are valid.
 *
 * Metadata fields (metadata, registers, pkt_mark) cannot be carried by a
 * frame; they are reported in `ignored`. Tunnel fields come back as trace
 * options.
 */
import { HDR } from "../codec/packet/constants.js";
import { setIpv4HeaderChecksum, setL4Checksum } from "../codec/packet/checksum.js";
import { parseFlow } from "../codec/text/index.js";
import type { FlowMatch } from "../codec/text/flow-match.js";
import type { Slot } from "../codec/text/fields.js";
import { portToOf11 } from "../codec/text/ports.js";
import type { TraceOptions } from "./trace.js";

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_VLAN = 0x8100;
const CFI = 0x1000;
const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;
const ND_SOLICIT = 135;
const ND_ADVERT = 136;
const FRAG_LATER = 2;
const ND_OPT_SLL = 1;
const ND_OPT_TLL = 2;

/** Slots a frame cannot carry. */
const METADATA_SLOTS: readonly Slot[] = [
  "metadata",
  "pkt_mark",
  ...Array.from({ length: 16 }, (_, i) => `reg${i}` as Slot),
];

export interface Microflow {
  readonly frame: Uint8Array;
  /** OpenFlow (32-bit) in_port. */
  readonly inPort: number;
  readonly tunnel: TraceOptions["tunnel"];
  /** Fields given that a frame cannot carry. */
  readonly ignored: readonly string[];
}

function put(b: Uint8Array, o: number, v: bigint, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    b[o + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Parses `text` and composes the frame. Throws on syntax OVS would refuse. */
export function microflowPacket(text: string): Microflow {
  const parsed = parseFlow(text, { command: "delete" });
  return composeMicroflow(parsed.flowMatch);
}

export function composeMicroflow(m: FlowMatch): Microflow {
  const v = (s: Slot): bigint => m.value[s] & m.mask[s];
  const ignored = METADATA_SLOTS.filter((s) => m.mask[s] !== 0n);
  const tci = Number(v("vlan_tci"));
  const dlType = Number(v("dl_type"));
  const proto = Number(v("nw_proto"));
  const tagged = (tci & CFI) !== 0;
  const l2 = HDR.ETH + (tagged ? HDR.VLAN_TAG : 0);

  let l3Len = 0;
  let l4Len = 0;
  const frag = Number(v("nw_frag"));
  const isIp = dlType === ETH_IPV4 || dlType === ETH_IPV6;
  const isArp = dlType === ETH_ARP || dlType === ETH_RARP;
  if (dlType === ETH_IPV4) l3Len = HDR.IPV4_MIN;
  else if (dlType === ETH_IPV6) l3Len = HDR.IPV6;
  else if (isArp) l3Len = HDR.ARP_ETH_IPV4;
  const icmpType = Number(v("tp_src"));
  const isNd =
    dlType === ETH_IPV6 &&
    proto === PROTO.ICMPV6 &&
    (icmpType === ND_SOLICIT || icmpType === ND_ADVERT);
  if (isIp && (frag & FRAG_LATER) === 0) {
    if (proto === PROTO.TCP) l4Len = HDR.TCP_MIN;
    else if (proto === PROTO.UDP) l4Len = HDR.UDP;
    else if (proto === PROTO.SCTP) l4Len = HDR.SCTP;
    else if (proto === PROTO.ICMP) l4Len = HDR.ICMP;
    else if (proto === PROTO.ICMPV6) {
      l4Len = 8;
      if (isNd) {
        l4Len = 24;
        if (m.mask.arp_sha !== 0n || m.mask.arp_tha !== 0n) l4Len += 8;
      }
    }
  }
  const b = new Uint8Array(l2 + l3Len + l4Len);
  put(b, 0, v("dl_dst"), 6);
  put(b, 6, v("dl_src"), 6);
  let o = 12;
  if (tagged) {
    put(b, o, BigInt(ETH_VLAN), 2);
    put(b, o + 2, BigInt(tci & ~CFI), 2);
    o += 4;
  }
  put(b, o, BigInt(dlType), 2);
  const l3 = l2;
  const l4 = l3 + l3Len;
  if (dlType === ETH_IPV4) {
    b[l3] = 0x45;
    b[l3 + 1] = Number(v("nw_tos"));
    put(b, l3 + 2, BigInt(l3Len + l4Len), 2);
    // nw_frag: ANY → a fragment; LATER → a non-first fragment (offset ≠ 0).
    let fragField = 0;
    if ((frag & 1) !== 0) fragField = (frag & FRAG_LATER) !== 0 ? 1 : 0x2000;
    put(b, l3 + 6, BigInt(fragField), 2);
    b[l3 + 8] = Number(v("nw_ttl"));
    b[l3 + 9] = proto;
    put(b, l3 + 12, v("nw_src"), 4);
    put(b, l3 + 16, v("nw_dst"), 4);
    setIpv4HeaderChecksum(b, l3);
  } else if (dlType === ETH_IPV6) {
    const tc = Number(v("nw_tos"));
    const label = Number(v("ipv6_label")) & 0xfffff;
    put(b, l3, BigInt(((6 << 28) | (tc << 20) | label) >>> 0), 4);
    put(b, l3 + 4, BigInt(l4Len), 2);
    b[l3 + 6] = proto;
    b[l3 + 7] = Number(v("nw_ttl"));
    put(b, l3 + 8, v("ipv6_src"), 16);
    put(b, l3 + 24, v("ipv6_dst"), 16);
  } else if (isArp) {
    put(b, l3, 1n, 2);
    put(b, l3 + 2, BigInt(ETH_IPV4), 2);
    b[l3 + 4] = 6;
    b[l3 + 5] = 4;
    put(b, l3 + 6, BigInt(proto), 2);
    put(b, l3 + 8, v("arp_sha"), 6);
    put(b, l3 + 14, v("nw_src"), 4);
    put(b, l3 + 18, v("arp_tha"), 6);
    put(b, l3 + 24, v("nw_dst"), 4);
  }
  if (l4Len > 0) {
    if (proto === PROTO.TCP) {
      put(b, l4, v("tp_src"), 2);
      put(b, l4 + 2, v("tp_dst"), 2);
      const flags = Number(v("tcp_flags")) & 0x0fff;
      put(b, l4 + 12, BigInt((5 << 12) | flags), 2);
    } else if (proto === PROTO.UDP) {
      put(b, l4, v("tp_src"), 2);
      put(b, l4 + 2, v("tp_dst"), 2);
      put(b, l4 + 4, BigInt(l4Len), 2);
    } else if (proto === PROTO.SCTP) {
      put(b, l4, v("tp_src"), 2);
      put(b, l4 + 2, v("tp_dst"), 2);
    } else {
      b[l4] = Number(v("tp_src"));
      b[l4 + 1] = Number(v("tp_dst"));
      if (isNd) {
        put(b, l4 + 8, v("nd_target"), 16);
        if (l4Len > 24) {
          const sll = icmpType === ND_SOLICIT;
          b[l4 + 24] = sll ? ND_OPT_SLL : ND_OPT_TLL;
          b[l4 + 25] = 1;
          put(b, l4 + 26, sll ? v("arp_sha") : v("arp_tha"), 6);
        }
      }
    }
    if (proto !== PROTO.SCTP) {
      setL4Checksum(b, { l3, l4, end: b.length, proto });
    }
  }
  const port16 = Number(v("in_port"));
  const tunnel =
    m.mask.tun_id !== 0n || m.mask.tun_src !== 0n || m.mask.tun_dst !== 0n
      ? { tunId: v("tun_id"), src: Number(v("tun_src")), dst: Number(v("tun_dst")) }
      : undefined;
  return { frame: b, inPort: portToOf11(port16), tunnel, ignored };
}
