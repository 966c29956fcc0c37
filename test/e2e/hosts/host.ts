/**
 * A compute "host" of the end-to-end suite: a network namespace holding
 * br-int and br-tun (and whatever carries the underlay), reached by the
 * controller through a unix socket in the host's run directory. Two
 * backends: real Open vSwitch (ovs-host.ts) and `dvrflow switch`
 * (dvrflow-host.ts). The rig creates the namespace, the underlay veth
 * (`ul0`) and the VMs' veths (their host ends named as the topology's
 * interfaces) before the backend starts.
 */
import type { PlumbOptions } from "../../../src/plumb/index.js";
import type { StoreSnapshot } from "../../../src/store/store.js";
import type { Topology } from "../../../src/topology/schema.js";

export type BackendKind = "ovs" | "dvrflow";

/** The underlay device in every host namespace (one end of the veth between the hosts). */
export const UNDERLAY_DEV = "ul0";
export const UNDERLAY_PREFIX = 24;

export interface HostSetup {
  /** Topology host name (compute-1). */
  readonly name: string;
  /** Network namespace. */
  readonly ns: string;
  /** Run directory (sockets, logs, configs). */
  readonly dir: string;
  readonly tunnelIp: string;
  /**
   * Every port this host will ever carry, including ports the API adds
   * later (a `dvrflow switch` cannot gain ports at run time, so they are
   * wired from the start, as a hypervisor plugs a tap before Neutron
   * binds it), and the store state (local VLANs) of that final topology.
   */
  readonly fullTopology: Topology;
  readonly fullSnapshot: StoreSnapshot;
}

export interface HostBackend {
  readonly kind: BackendKind;
  readonly setup: HostSetup;
  /** Where this host dials the controller (a unix socket inside its run directory). */
  readonly controllerSocket: string;
  /** OVSDB remote the controller plumbs through (undefined: nothing to plumb). */
  readonly ovsdb: string | undefined;
  /** Plumbing options for the controller (datapath type, underlay bridge). */
  readonly plumbOptions: PlumbOptions | undefined;
  /** `ovs-ofctl` target of a bridge. */
  mgmt(bridge: "br-int" | "br-tun"): string;
  /** Starts the switch side (before the controller exists). */
  start(): Promise<void>;
  /** Finishes what the controller's plumbing cannot do (the tunnel IP on br-phy). */
  afterPlumbing(): Promise<void>;
  /** The MAC that answers for this host's tunnel IP on the underlay. */
  underlayMac(): string;
  /** Pins the peer's tunnel IP → MAC (no ARP, no first-packet loss on the underlay). */
  pinPeer(ip: string, mac: string): void;
  /** Why the switch side is no longer running, or undefined while it runs. */
  failure(): string | undefined;
  /** Log tails, for failure messages. */
  diagnostics(): string;
  stop(): Promise<void>;
}
