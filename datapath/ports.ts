/**
 * The port model of a bridge.
 *
 * A port is one OpenFlow port number on one bridge. Kinds, as in OVS's
 * Interface.type:
 *
 * - `internal`: a port the host stack owns (OVS "internal"); the bridge's own
 *   port is an internal port numbered OFPP_LOCAL.
 * - `patch`: one end of a pair joining two bridges (Neutron's patch-tun /
 *   patch-int). Output on it continues in the peer bridge's table 0 with
 *   in_port = the peer port (OVS `patch_port_output`); nothing leaves the
 *   process.
 * - `vxlan`: a VXLAN tunnel port (`options:remote_ip=X|flow, key=flow`). Output
 *   encapsulates with tun_id as VNI and tun_dst (or the fixed remote_ip) as the
 *   outer destination; input sets tun_id/tun_src/tun_dst in the key. Here the
 *   encap/decap is pure; the I/O layer carries the bytes over UDP.
 * - `sink`: a generic port whose frames go to the bridge's transmit sink and
 *   nowhere else (Linux interfaces, pcap files and tests all look like this to
 *   the pure core).
 *
 * VLAN mode (OVSDB Port.tag / Port.trunks, dvr-pipeline.md §0.2, used only by
 * the NORMAL action): a port with `tag` is an access port of that VLAN; a
 * port without `tag` is a trunk, for all VLANs unless `trunks` lists them.
 */
import { OFPP } from "../codec/ports.js";
import { OFPPC, OFPPS, type OfpPort } from "../codec/messages/port.js";

/** The kinds of port (OVS Interface.type). */
export type PortKind = "internal" | "patch" | "vxlan" | "sink";

interface PortSpecBase {
  /** Port (and interface) name, unique in the bridge; at most 15 characters on the wire. */
  readonly name: string;
  /** OpenFlow port number (OVS ofport_request). Default: the lowest free number from 1. */
  readonly ofport?: number;
  /** Ethernet address shown in PORT_DESC. Default: derived from the name. */
  readonly hwAddr?: Uint8Array;
  /** Access VLAN (OVSDB Port.tag), 1..4095. */
  readonly tag?: number;
  /** Trunk VLANs (OVSDB Port.trunks); empty or absent = all VLANs. */
  readonly trunks?: readonly number[];
}

export type PortSpec =
  | (PortSpecBase & { readonly kind: "internal" })
  | (PortSpecBase & { readonly kind: "sink" })
  | (PortSpecBase & {
      readonly kind: "patch";
      /** Name of the peer bridge and of its patch port (OVS options:peer). */
      readonly peerBridge: string;
      readonly peerPort: string;
    })
  | (PortSpecBase & {
      readonly kind: "vxlan";
      /** Outer destination (host-order IPv4), or "flow" to take tun_dst from the flow. */
      readonly remoteIp: number | "flow";
      /** Outer source (host-order IPv4); default: tun_src from the flow, else 0. */
      readonly localIp?: number;
      /** VNI: "flow" (tun_id from the flow, Neutron's `key=flow`) or a fixed value. */
      readonly key: "flow" | number;
      /** UDP destination port; default 4789. */
      readonly dstPort?: number;
      /** Outer Ethernet addresses (the neighbour resolution the I/O layer does). */
      readonly localMac?: Uint8Array;
      readonly remoteMac?: Uint8Array;
    });

/** Highest ordinary port number OVS hands out (its 16-bit port space below OFPP_MAX). */
export const MAX_OFPORT = 0xfeff;

/** OVS's placeholder for "no VLAN tag on this port" (Port.tag unset). */
export const NO_TAG = -1;

/** Per-port counters (OFPMP_PORT_STATS). Numbers, exact to 2^53. */
export class PortCounters {
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;
  rxDropped = 0;
  txDropped = 0;
  rxErrors = 0;
  txErrors = 0;

  reset(): void {
    this.rxPackets = this.rxBytes = this.txPackets = this.txBytes = 0;
    this.rxDropped = this.txDropped = this.rxErrors = this.txErrors = 0;
  }
}

export class Port {
  readonly name: string;
  readonly no: number;
  readonly spec: PortSpec;
  readonly kind: PortKind;
  readonly hwAddr: Uint8Array;
  /** Access VLAN or {@link NO_TAG}. */
  readonly tag: number;
  /** Allowed trunk VLANs, or null for all. */
  readonly trunks: ReadonlySet<number> | null;
  /** OFPPC_* bits (PORT_MOD). */
  config = 0;
  /** OFPPS_* bits; ports start up and live. */
  state: number = OFPPS.LIVE;
  /** For patch ports: the peer, once both ends exist (resolved by the Datapath). */
  peer: Port | null = null;
  /** Name of the bridge owning the port (set by the bridge). */
  bridgeName = "";
  readonly counters = new PortCounters();
  /** Creation time (ms), for port-stats duration. */
  readonly createdMs: number;

  constructor(spec: PortSpec, no: number, nowMs: number) {
    this.spec = spec;
    this.name = spec.name;
    this.no = no >>> 0;
    this.kind = spec.kind;
    this.hwAddr = spec.hwAddr?.slice(0, 6) ?? macFromName(spec.name);
    this.tag = spec.tag ?? NO_TAG;
    this.trunks = spec.trunks !== undefined && spec.trunks.length > 0 ? new Set(spec.trunks) : null;
    this.createdMs = nowMs;
  }

  /** Fast-failover liveness (OF1.3 §5.6.1): link up, not administratively down. */
  isLive(): boolean {
    return (this.state & OFPPS.LINK_DOWN) === 0 && (this.config & OFPPC.PORT_DOWN) === 0;
  }

  /** Whether NORMAL may use this port for VLAN `vlan` (OVS `xbundle_includes_vlan`). */
  includesVlan(vlan: number): boolean {
    if (this.tag !== NO_TAG) return this.tag === vlan;
    return this.trunks === null || this.trunks.has(vlan);
  }

  /** The OFPMP_PORT_DESC entry. */
  describe(): OfpPort {
    return {
      portNo: this.no,
      hwAddr: this.hwAddr,
      name: this.name.slice(0, 15),
      config: this.config,
      state: this.state,
      curr: 0,
      advertised: 0,
      supported: 0,
      peer: 0,
      currSpeed: 0,
      maxSpeed: 0,
    };
  }
}

/** A stable, locally administered MAC derived from a name (FNV-1a), for ports without one. */
export function macFromName(name: string): Uint8Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  const mac = new Uint8Array(6);
  mac[0] = 0x02; // locally administered, unicast
  mac[1] = 0xdf;
  mac[2] = h >>> 24;
  mac[3] = h >>> 16;
  mac[4] = h >>> 8;
  mac[5] = h;
  return mac;
}

/** True for the ports a FLOW_MOD's out_port filter treats as "any". */
export function isAnyPort(port: number): boolean {
  return port >>> 0 === OFPP.ANY;
}
