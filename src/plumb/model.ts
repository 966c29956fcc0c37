/**
 * The desired OVSDB state of one host ("plumbing"), as Neutron's OVS agent
 * keeps it (dvr-pipeline.md §2.2, §7 item 4): br-int and br-tun joined by
 * patch ports, one VXLAN port per remote host, VM ports with their local
 * VLAN `tag` (and `mtu_request` when their network has an `mtu`), secure
 * fail mode, in-band control off, the datapath ids and the controller
 * target; optionally br-phy holding the underlay address for userspace
 * VXLAN (§7 item 10).
 *
 * Ownership. dvrflow marks every port it creates with
 * `Port.external_ids:dvrflow-role`; a marked port that is no longer desired
 * is deleted, an unmarked one is never touched (Nova's, an operator's),
 * except tunnel ports on br-tun, which belong to the tunnel bridge as in
 * Neutron. Map columns (other_config, external_ids) are merged key by key:
 * keys we do not set are left alone.
 */

/** The vswitchd database (vswitch.ovsschema). */
export const VSWITCH_DB = "Open_vSwitch";

/** Keys of Port.external_ids written by dvrflow. */
export const EXTERNAL_ID = {
  role: "dvrflow-role",
  port: "dvrflow-port",
  host: "dvrflow-host",
} as const;
/** Prefix of every external_ids key dvrflow owns (stale ones are removed). */
export const EXTERNAL_ID_PREFIX = "dvrflow-";

/** Neutron/libvirt keys on a VM's Interface.external_ids (ovs-vsctl(8) "iface-id"). */
export const IFACE_ID = { ifaceId: "iface-id", attachedMac: "attached-mac" } as const;

/** Interface types that are tunnels (ovs-vswitchd.conf.db(5) Interface.type). */
export const TUNNEL_TYPES: ReadonlySet<string> = new Set([
  "vxlan",
  "geneve",
  "gre",
  "stt",
  "erspan",
  "ip6gre",
  "ip6erspan",
  "gtpu",
  "bareudp",
  "lisp",
]);

/** What a port is for, which decides how it is checked and when it is removed. */
export type PortRole =
  | { readonly kind: "patch"; readonly peer: string }
  | { readonly kind: "tunnel"; readonly host: string; readonly remoteIp: string }
  | {
      readonly kind: "vm";
      readonly port: string;
      readonly network: string;
      readonly mac: string;
    }
  | { readonly kind: "uplink" };

export type PortRoleKind = PortRole["kind"];

export interface DesiredInterface {
  /** Interface.type; undefined = keep what exists (created as "", a system port). */
  readonly type: string | undefined;
  /** Interface.options, the whole map; undefined = not managed. */
  readonly options: Readonly<Record<string, string>> | undefined;
  /** Interface.ofport_request; undefined = not managed. */
  readonly ofportRequest: number | undefined;
  /**
   * Interface.mtu_request ("Requested MTU (Maximum Transmission Unit) for
   * the interface", ovs-vswitchd.conf.db(5)), as Neutron's agent/os-vif set
   * it on a VM port from its network's MTU; undefined = not managed (an
   * existing value is left alone, never cleared).
   */
  readonly mtuRequest: number | undefined;
  /** Keys merged into Interface.external_ids. */
  readonly externalIds: Readonly<Record<string, string>>;
}

export interface DesiredPort {
  /** Port and Interface name (one interface per port). */
  readonly name: string;
  readonly role: PortRole;
  /** Port.tag: the access VLAN, or none (enforced either way). */
  readonly tag: number | undefined;
  /** Keys merged into Port.external_ids (the dvrflow-* ones). */
  readonly externalIds: Readonly<Record<string, string>>;
  readonly iface: DesiredInterface;
}

export interface DesiredBridge {
  readonly name: string;
  /** Bridge.datapath_type ("netdev", "system", "dummy"); undefined = keep (new: OVS default). */
  readonly datapathType: string | undefined;
  /** Bridge.fail_mode; undefined = keep. */
  readonly failMode: "secure" | "standalone" | undefined;
  /** Bridge.protocols; undefined = keep. */
  readonly protocols: readonly string[] | undefined;
  /** Keys merged into Bridge.other_config. */
  readonly otherConfig: Readonly<Record<string, string>>;
  /**
   * The controller target, or undefined to leave controllers alone. Never
   * removed: OVS flushes a bridge's flows when its first controller is set
   * or its last one removed (dvr-pipeline.md §7 item 6).
   */
  readonly controller: string | undefined;
  /** In the order they are created. */
  readonly ports: readonly DesiredPort[];
  /** Delete tunnel-type ports not in `ports` (br-tun). */
  readonly pruneTunnels: boolean;
}

export interface PlumbPlan {
  readonly host: string;
  /** Our tunnel IP (local_ip of tunnel ports). */
  readonly tunnelIp: string;
  /** Every host's tunnel IP → host, to map tunnel ports found in OVSDB. */
  readonly hostsByTunnelIp: ReadonlyMap<string, string>;
  readonly bridges: readonly DesiredBridge[];
  /** Shell steps outside OVSDB (the underlay address on br-phy). */
  readonly hostCommands: readonly string[];
  /** Remarks for the operator (e.g. the unix: controller target rule). */
  readonly notes: readonly string[];
}

/** One difference between a plan and OVSDB, as reported by the reconciler. */
export type PlumbChange =
  | { readonly kind: "init-root" }
  | { readonly kind: "add-bridge"; readonly bridge: string }
  | {
      readonly kind: "set-bridge";
      readonly bridge: string;
      readonly column: string;
      readonly from: string;
      readonly to: string;
    }
  | {
      readonly kind: "add-port";
      readonly bridge: string;
      readonly port: string;
      readonly role: PortRoleKind;
    }
  | {
      readonly kind: "set-port";
      readonly bridge: string;
      readonly port: string;
      readonly column: string;
      readonly from: string;
      readonly to: string;
    }
  | {
      readonly kind: "delete-port";
      readonly bridge: string;
      readonly port: string;
      readonly reason: string;
    }
  | {
      readonly kind: "set-controller";
      readonly bridge: string;
      readonly from: readonly string[];
      readonly to: string;
    };

/** One line of a change report (`dvrflow plumb` output). */
export function formatChange(c: PlumbChange): string {
  switch (c.kind) {
    case "init-root":
      return "create the Open_vSwitch root row";
    case "add-bridge":
      return `add bridge ${c.bridge}`;
    case "set-bridge":
      return `bridge ${c.bridge}: ${c.column} ${c.from} -> ${c.to}`;
    case "add-port":
      return `add ${c.role} port ${c.port} to ${c.bridge}`;
    case "set-port":
      return `port ${c.port} on ${c.bridge}: ${c.column} ${c.from} -> ${c.to}`;
    case "delete-port":
      return `delete port ${c.port} from ${c.bridge} (${c.reason})`;
    case "set-controller":
      return `bridge ${c.bridge}: controller [${c.from.join(", ")}] -> ${c.to}`;
  }
}
