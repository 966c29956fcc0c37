/**
 * The desired plumbing of one host, derived from the topology and the
 * store's local VLANs. Pure: the same input gives the same plan.
 *
 * - br-int: `patch-tun` (peer `patch-int`) and each VM port of the host
 *   with its network's local VLAN as `tag` (Neutron's access ports, which
 *   table 0/NORMAL depend on: dvr-pipeline.md §0.2, §7 item 4).
 * - br-tun: `patch-int` (peer `patch-tun`) and one VXLAN port per remote
 *   host, named `vxlan-<remote IP in 8 hex digits>` with Neutron's options
 *   (`ovs_lib.add_tunnel_port`, dvr-pipeline.md §2.2): remote_ip,
 *   local_ip, in_key=flow, out_key=flow, df_default, egress_pkt_mark=0,
 *   and dst_port when not the default.
 * - Both: other_config:datapath-id from the topology, fail_mode=secure,
 *   other_config:disable-in-band=true, protocols=OpenFlow13, the controller
 *   target when one is given.
 * - VM ports of a network with an `mtu` get it as `mtu_request`, as
 *   Neutron's OVS agent (through os-vif) sets a VM port's MTU; without one
 *   the column is not managed.
 * - ofport_request follows the compiler's offline numbering
 *   (`defaultOfports`), so `dvrflow compile` matches a plumbed host.
 * - Optionally br-phy with the uplink interfaces; the underlay address is
 *   a host command (OVSDB cannot set IP addresses).
 */
import { defaultOfports, PATCH_INT, PATCH_TUN, tunnelPortName } from "../dvr/compile/ports.js";
import type { HostOfports } from "../dvr/compile/ports.js";
import type { TopologyIndex } from "../topology/indexed.js";
import {
  EXTERNAL_ID,
  IFACE_ID,
  type DesiredBridge,
  type DesiredPort,
  type PlumbPlan,
} from "./model.js";

/** OpenFlow version the controller speaks. */
export const OPENFLOW_PROTOCOLS = ["OpenFlow13"] as const;
/** IANA VXLAN port (RFC 7348 §5); OVS's default, so dst_port is left out for it. */
export const VXLAN_DEFAULT_PORT = 4789;
export const BR_INT = "br-int";
export const BR_TUN = "br-tun";
export const BR_PHY = "br-phy";

export interface UnderlayOptions {
  /** Bridge holding the underlay IP (default br-phy). */
  readonly bridge?: string;
  /** Physical/veth interfaces added to it. */
  readonly interfaces: readonly string[];
  /** Prefix length of the tunnel IP on the underlay (default 24). */
  readonly prefixLength?: number;
}

export interface PlumbOptions {
  /** Controller target (`tcp:IP:6653`, `ssl:…`, `unix:PATH`); undefined = leave as is. */
  readonly controller?: string;
  /** Bridge datapath_type: "netdev" for userspace OVS; undefined = OVS default (system). */
  readonly datapathType?: string;
  /** VXLAN UDP port when not 4789. */
  readonly tunnelDstPort?: number;
  /** options:df_default of tunnel ports (Neutron `[agent] dont_fragment`, default true). */
  readonly dontFragment?: boolean;
  /** Interface type given to VM ports created by dvrflow (default: "" = system, e.g. a tap/veth). */
  readonly vmInterfaceType?: string;
  /** Userspace VXLAN: the bridge holding the tunnel IP. */
  readonly underlay?: UnderlayOptions;
}

export interface PlumbInput {
  readonly index: TopologyIndex;
  readonly host: string;
  /** network → local VLAN on this host (the store's allocation). */
  readonly localVlans: ReadonlyMap<string, number>;
  /** Requested port numbers; default the compiler's offline numbering. */
  readonly ofports?: HostOfports;
  readonly options?: PlumbOptions;
}

export class PlumbPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlumbPlanError";
  }
}

const CONTROLLER_RE =
  /^(tcp|ssl):[^:]+(:\d{1,5})?$|^(tcp|ssl):\[[0-9A-Fa-f:.]+\](:\d{1,5})?$|^unix:.+$/;

/** OVS's datapath-id: exactly 16 hex digits (ovs-vswitchd.conf.db(5) other_config:datapath-id). */
export function formatDatapathId(dpid: bigint): string {
  return dpid.toString(16).padStart(16, "0");
}

export function planPlumbing(input: PlumbInput): PlumbPlan {
  const { index, host: hostName } = input;
  const opts = input.options ?? {};
  const host = index.host(hostName);
  if (host === undefined) throw new PlumbPlanError(`unknown host ${hostName}`);
  const controller = opts.controller;
  if (controller !== undefined && !CONTROLLER_RE.test(controller)) {
    throw new PlumbPlanError(
      `"${controller}" is not a controller target (tcp:IP:PORT, ssl:IP:PORT or unix:PATH)`,
    );
  }
  const ofports = input.ofports ?? defaultOfports(index, hostName);
  const notes: string[] = [];
  if (controller?.startsWith("unix:") === true) {
    notes.push(
      "a unix: controller target must lie inside OVS's run directory, or ovs-vswitchd refuses to connect",
    );
  }

  const common = (name: string, dpid: bigint): Omit<DesiredBridge, "ports" | "pruneTunnels"> => ({
    name,
    datapathType: opts.datapathType,
    failMode: "secure",
    protocols: OPENFLOW_PROTOCOLS,
    otherConfig: { "datapath-id": formatDatapathId(dpid), "disable-in-band": "true" },
    controller,
  });
  const patch = (name: string, peer: string, bridge: keyof HostOfports): DesiredPort => ({
    name,
    role: { kind: "patch", peer },
    tag: undefined,
    externalIds: { [EXTERNAL_ID.role]: "patch" },
    iface: {
      type: "patch",
      options: { peer },
      ofportRequest: ofports[bridge].get(name),
      mtuRequest: undefined,
      externalIds: {},
    },
  });

  const vmPorts: DesiredPort[] = [];
  for (const p of index.portsByHost.get(hostName) ?? []) {
    const tag = input.localVlans.get(p.network);
    if (tag === undefined) {
      throw new PlumbPlanError(`no local VLAN for network ${p.network} on host ${hostName}`);
    }
    vmPorts.push({
      name: p.interfaceName,
      role: { kind: "vm", port: p.name, network: p.network, mac: p.macText },
      tag,
      externalIds: { [EXTERNAL_ID.role]: "vm", [EXTERNAL_ID.port]: p.name },
      iface: {
        type: opts.vmInterfaceType,
        options: undefined,
        ofportRequest: ofports["br-int"].get(p.interfaceName),
        mtuRequest: index.networks.get(p.network)?.mtu,
        externalIds: { [IFACE_ID.ifaceId]: p.name, [IFACE_ID.attachedMac]: p.macText },
      },
    });
  }

  const tunnelPorts: DesiredPort[] = [];
  const hostsByTunnelIp = new Map<string, string>();
  for (const h of index.hosts) {
    hostsByTunnelIp.set(h.tunnelIpText, h.name);
    if (h.name === hostName) continue;
    const name = tunnelPortName(h.tunnelIp);
    const options: Record<string, string> = {
      remote_ip: h.tunnelIpText,
      local_ip: host.tunnelIpText,
      in_key: "flow",
      out_key: "flow",
      df_default: String(opts.dontFragment ?? true),
      egress_pkt_mark: "0",
    };
    if (opts.tunnelDstPort !== undefined && opts.tunnelDstPort !== VXLAN_DEFAULT_PORT) {
      options.dst_port = String(opts.tunnelDstPort);
    }
    tunnelPorts.push({
      name,
      role: { kind: "tunnel", host: h.name, remoteIp: h.tunnelIpText },
      tag: undefined,
      externalIds: { [EXTERNAL_ID.role]: "tunnel", [EXTERNAL_ID.host]: h.name },
      iface: {
        type: "vxlan",
        options,
        ofportRequest: ofports["br-tun"].get(name),
        mtuRequest: undefined,
        externalIds: {},
      },
    });
  }

  const bridges: DesiredBridge[] = [
    {
      ...common(BR_INT, host.brIntDpid),
      ports: [patch(PATCH_TUN, PATCH_INT, "br-int"), ...vmPorts],
      pruneTunnels: false,
    },
    {
      ...common(BR_TUN, host.brTunDpid),
      ports: [patch(PATCH_INT, PATCH_TUN, "br-tun"), ...tunnelPorts],
      pruneTunnels: true,
    },
  ];

  const hostCommands: string[] = [];
  if (opts.underlay !== undefined) {
    const u = opts.underlay;
    const name = u.bridge ?? BR_PHY;
    const prefix = u.prefixLength ?? 24;
    if (!Number.isInteger(prefix) || prefix < 1 || prefix > 32) {
      throw new PlumbPlanError(`underlay prefix length ${prefix} is not in 1..32`);
    }
    bridges.push({
      name,
      datapathType: opts.datapathType,
      // A plain learning switch carrying the underlay: no controller, OVS's defaults.
      failMode: undefined,
      protocols: undefined,
      otherConfig: {},
      controller: undefined,
      ports: u.interfaces.map((i) => ({
        name: i,
        role: { kind: "uplink" },
        tag: undefined,
        externalIds: { [EXTERNAL_ID.role]: "uplink" },
        iface: {
          type: undefined,
          options: undefined,
          ofportRequest: undefined,
          mtuRequest: undefined,
          externalIds: {},
        },
      })),
      pruneTunnels: false,
    });
    // OVS userspace tunnelling terminates VXLAN only on an IP held by one of
    // its own netdev bridges (dvr-pipeline.md §7 item 10).
    hostCommands.push(`ip addr replace ${host.tunnelIpText}/${prefix} dev ${name}`);
    hostCommands.push(`ip link set ${name} up`);
  }

  return {
    host: hostName,
    tunnelIp: host.tunnelIpText,
    hostsByTunnelIp,
    bridges,
    hostCommands,
    notes,
  };
}
