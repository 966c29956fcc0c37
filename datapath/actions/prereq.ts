/**
 * Field prerequisites checked against a packet at run time (OVS
 * `mf_are_prereqs_ok` on the flow): set_field and move skip a field the
 * packet does not carry ("unmet prerequisites for F, set_field ignored"), so
 * a write to tp_dst never scribbles over a non-TCP/UDP payload.
 */
import type { Prereq } from "../../codec/oxm.js";
import { ETH_TYPE, IP_PROTO, NW_FRAG, VLAN } from "../../codec/packet/constants.js";
import { FK } from "../../codec/packet/flow-key.js";

const ND_SOLICIT = 135;
const ND_ADVERT = 136;

export function prereqOk(p: Prereq, w: Uint32Array): boolean {
  if (p === "none") return true;
  const et = w[FK.ETH_TYPE];
  const proto = w[FK.NW_PROTO];
  const ipAny = et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6;
  const notLater = (w[FK.NW_FRAG]! & NW_FRAG.LATER) === 0;
  switch (p) {
    case "in_port":
      return true;
    case "vlan_vid":
      return (w[FK.VLAN_TCI]! & VLAN.CFI) !== 0;
    case "ipv4":
      return et === ETH_TYPE.IPV4;
    case "ipv6":
      return et === ETH_TYPE.IPV6;
    case "ip_any":
      return ipAny;
    case "arp":
      return et === ETH_TYPE.ARP || et === ETH_TYPE.RARP;
    case "tcp":
      return ipAny && proto === IP_PROTO.TCP && notLater;
    case "udp":
      return ipAny && proto === IP_PROTO.UDP && notLater;
    case "sctp":
      return ipAny && proto === IP_PROTO.SCTP && notLater;
    case "icmpv4":
      return et === ETH_TYPE.IPV4 && proto === IP_PROTO.ICMP;
    case "icmpv6":
      return et === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6;
    case "nd":
    case "nd_solicit":
    case "nd_advert": {
      const t = w[FK.ICMP_TYPE];
      const nd =
        et === ETH_TYPE.IPV6 &&
        proto === IP_PROTO.ICMPV6 &&
        w[FK.ICMP_CODE] === 0 &&
        (t === ND_SOLICIT || t === ND_ADVERT);
      if (p === "nd") return nd;
      return nd && t === (p === "nd_solicit" ? ND_SOLICIT : ND_ADVERT);
    }
    // Not modelled by the datapath (refused at flow-mod time).
    case "mpls":
    case "pbb":
    case "ct_valid":
      return false;
  }
}
