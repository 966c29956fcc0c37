/**
 * The packet half of the codec: parse Ethernet frames into a {@link FlowKey}
 * (OVS flow-extraction semantics) and build frames (ARP, ICMP/ICMPv6/ND,
 * UDP/TCP over IPv4/IPv6, 802.1Q push/pop, VXLAN), with checksum helpers.
 */
export * from "./constants.js";
export * from "./flow-key.js";
export * from "./parse.js";
export * from "./checksum.js";
export * from "./rewrite.js";
export * from "./addr.js";
export * from "./ethernet.js";
export * from "./arp.js";
export * from "./ip.js";
export * from "./icmp.js";
export * from "./vxlan.js";
