/**
 * The few frames a simulated VM sends and reads (ARP, ICMP echo over IPv4),
 * built with the codec's packet builders, and a small reader that turns a
 * frame into the fields the demo prints and checks. The reader looks only
 * at what it needs (untagged or one 802.1Q tag, ARP, IPv4, ICMP echo): the
 * switches' parser, not this one, decides forwarding.
 */
import {
  ARP,
  ETH_TYPE,
  HDR,
  ICMP_TYPE,
  IP_PROTO,
  VLAN,
  arpReply,
  arpRequest,
  icmpEchoReply,
  icmpEchoRequest,
  ipv4ToString,
  macToString,
} from "../../codec/packet/index.js";

export interface FrameArp {
  readonly op: number;
  readonly sha: string;
  readonly spa: number;
  readonly tha: string;
  readonly tpa: number;
}

export interface FrameIpv4 {
  readonly src: number;
  readonly dst: number;
  readonly ttl: number;
  readonly proto: number;
}

export interface FrameEcho {
  readonly type: number;
  readonly id: number;
  readonly seq: number;
}

export interface ParsedFrame {
  readonly dst: string;
  readonly src: string;
  /** VLAN id when the frame carries a tag (a VM never should). */
  readonly vlan: number | undefined;
  readonly ethType: number;
  readonly arp: FrameArp | undefined;
  readonly ipv4: FrameIpv4 | undefined;
  readonly echo: FrameEcho | undefined;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Reads the fields above; undefined when the frame is shorter than an Ethernet header. */
export function readFrame(b: Uint8Array): ParsedFrame | undefined {
  if (b.length < HDR.ETH) return undefined;
  let o = 12;
  let ethType = u16(b, o);
  let vlan: number | undefined;
  if (ethType === ETH_TYPE.VLAN && b.length >= HDR.ETH + HDR.VLAN_TAG) {
    vlan = u16(b, o + 2) & VLAN.VID_MASK;
    o += HDR.VLAN_TAG;
    ethType = u16(b, o);
  }
  o += 2;
  let arp: FrameArp | undefined;
  let ipv4: FrameIpv4 | undefined;
  let echo: FrameEcho | undefined;
  if (ethType === ETH_TYPE.ARP && b.length >= o + HDR.ARP_ETH_IPV4) {
    arp = {
      op: u16(b, o + 6),
      sha: macToString(b, o + 8),
      spa: u32(b, o + 14),
      tha: macToString(b, o + 18),
      tpa: u32(b, o + 24),
    };
  } else if (ethType === ETH_TYPE.IPV4 && b.length >= o + HDR.IPV4_MIN) {
    const ihl = (b[o]! & 0x0f) * 4;
    ipv4 = { src: u32(b, o + 12), dst: u32(b, o + 16), ttl: b[o + 8]!, proto: b[o + 9]! };
    const l4 = o + ihl;
    if (ipv4.proto === IP_PROTO.ICMP && b.length >= l4 + HDR.ICMP) {
      const type = b[l4]!;
      if (type === ICMP_TYPE.ECHO_REQUEST || type === ICMP_TYPE.ECHO_REPLY) {
        echo = { type, id: u16(b, l4 + 4), seq: u16(b, l4 + 6) };
      }
    }
  }
  return {
    dst: macToString(b, 0),
    src: macToString(b, 6),
    vlan,
    ethType,
    arp,
    ipv4,
    echo,
  };
}

/** One line for a frame: `fa:16:3e:…→fa:16:3e:… icmp echo 203.0.113.10→203.0.113.41 ttl 64`. */
export function describeFrame(f: ParsedFrame): string {
  const l2 = `${f.src} → ${f.dst}${f.vlan === undefined ? "" : ` vlan ${f.vlan}`}`;
  if (f.arp !== undefined) {
    const a = f.arp;
    return a.op === ARP.OP_REQUEST
      ? `${l2} arp who-has ${ipv4ToString(a.tpa)} tell ${ipv4ToString(a.spa)}`
      : `${l2} arp ${ipv4ToString(a.spa)} is-at ${a.sha}`;
  }
  if (f.ipv4 !== undefined) {
    const ip = f.ipv4;
    const what =
      f.echo === undefined
        ? `ip proto ${ip.proto}`
        : f.echo.type === ICMP_TYPE.ECHO_REQUEST
          ? "icmp echo request"
          : "icmp echo reply";
    return `${l2} ${what} ${ipv4ToString(ip.src)} → ${ipv4ToString(ip.dst)} ttl ${ip.ttl}`;
  }
  return `${l2} type 0x${f.ethType.toString(16).padStart(4, "0")}`;
}

export const isArpRequest = (f: ParsedFrame): boolean => f.arp?.op === ARP.OP_REQUEST;
export const isArpReply = (f: ParsedFrame): boolean => f.arp?.op === ARP.OP_REPLY;
export const isEchoRequest = (f: ParsedFrame): boolean => f.echo?.type === ICMP_TYPE.ECHO_REQUEST;
export const isEchoReply = (f: ParsedFrame): boolean => f.echo?.type === ICMP_TYPE.ECHO_REPLY;

export { arpReply, arpRequest, icmpEchoReply, icmpEchoRequest };
