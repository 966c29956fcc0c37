/**
 * Which host a tunnel port leads to. Two sources, in this order:
 *
 * 1. OVSDB data: the interface's `options:remote_ip` (authoritative; ports
 *    created by someone else, under other names, are still recognised);
 * 2. Neutron's naming convention, `<type>-<remote IPv4 as 8 hex digits>`
 *    (`ovs_lib` naming, dvr-pipeline.md §2.2), for ports known only by name
 *    (an OpenFlow PORT_DESC carries names, not options).
 */
import { formatIpv4 } from "../topology/addr.js";

const NEUTRON_TUNNEL_NAME = /^(vxlan|gre|geneve)-([0-9a-f]{8})$/;

/** The remote IP encoded in a Neutron-style tunnel port name, or undefined. */
export function remoteIpFromTunnelName(name: string): string | undefined {
  const m = NEUTRON_TUNNEL_NAME.exec(name);
  return m === null ? undefined : formatIpv4(Number.parseInt(m[2]!, 16) >>> 0);
}

export interface TunnelPortInfo {
  readonly name: string;
  /** Interface.options, when read from OVSDB. */
  readonly options?: ReadonlyMap<string, string>;
}

/** The host a tunnel port leads to, given every host's tunnel IP. */
export function tunnelPortHost(
  port: TunnelPortInfo,
  hostsByTunnelIp: ReadonlyMap<string, string>,
): string | undefined {
  const remote = port.options?.get("remote_ip");
  if (remote !== undefined) return hostsByTunnelIp.get(remote);
  const fromName = remoteIpFromTunnelName(port.name);
  return fromName === undefined ? undefined : hostsByTunnelIp.get(fromName);
}

/** port name → host for every tunnel port that leads to a known host. */
export function mapTunnelPorts(
  ports: Iterable<TunnelPortInfo>,
  hostsByTunnelIp: ReadonlyMap<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of ports) {
    const h = tunnelPortHost(p, hostsByTunnelIp);
    if (h !== undefined) out.set(p.name, h);
  }
  return out;
}

/** A port as the switch reports it over OpenFlow (PORT_DESC / PORT_STATUS). */
export interface SwitchPortInfo {
  readonly name: string;
  readonly portNo: number;
}

/** A remote host as the compiler sees it: the tunnel port name its flows use. */
export interface TunnelPeer {
  readonly host: string;
  /** The compiler's name for the tunnel to it, `vxlan-<tunnel IP in hex>`. */
  readonly portName: string;
}

/** A port of the tunnel bridge that can be neither used as it is named nor mapped to a host. */
export interface UnmappedTunnelPort {
  readonly port: string;
  readonly ofport: number;
  /** The compiler's tunnel port names the switch lacks (the names it should have). */
  readonly expected: readonly string[];
}

export interface TunnelPortView {
  /** name → ofport for the compiler: tunnels known from OVSDB under the compiler's names. */
  readonly ofports: Map<string, number>;
  /** Switch name → compiler name, for the tunnels renamed in {@link ofports}. */
  readonly renamed: ReadonlyMap<string, string>;
  readonly unmapped: readonly UnmappedTunnelPort[];
}

/** OpenFlow numbers above this are reserved (OFPP_MAX and up: LOCAL, CONTROLLER …). */
const MAX_PLAIN_OFPORT = 0xffffff00;

/**
 * The tunnel bridge's ports as the compiler needs them (issue 5 §2: "tunnel
 * ports are mapped to hosts by OVSDB data or by Neutron's naming
 * convention"). The compiler finds the tunnel to a host by its Neutron name
 * only; an OpenFlow switch reports names and numbers, not remote IPs.
 *
 * - `fromOvsdb` (switch port name → host, apply.ts `tunnelPortsOf` over the
 *   host's OVSDB): a tunnel named otherwise (`tun-compute2`) is entered under
 *   the compiler's name for its host, so it gets its flows. A port the
 *   database does not list as a tunnel is passed through as it is.
 * - Without it, a name that follows the convention is used as it is;
 *   any other port (the patch port and the bridge's own port aside,
 *   `reserved`) could be a tunnel nobody can map: it is reported in
 *   `unmapped`, with the names the switch lacks, so the operator learns why
 *   a tunnel has no flows instead of waiting for them.
 */
export function mapSwitchTunnelPorts(
  ports: Iterable<SwitchPortInfo>,
  peers: readonly TunnelPeer[],
  fromOvsdb: ReadonlyMap<string, string> | undefined,
  reserved: ReadonlySet<string>,
): TunnelPortView {
  const all = [...ports];
  const onSwitch = new Set(all.map((p) => p.name));
  const nameOfHost = new Map(peers.map((p) => [p.host, p.portName]));
  const ofports = new Map<string, number>();
  const renamed = new Map<string, string>();
  const candidates: SwitchPortInfo[] = [];
  for (const p of all) {
    const host = fromOvsdb?.get(p.name);
    const canonical = host === undefined ? undefined : nameOfHost.get(host);
    // A port under the right name wins over a second tunnel to the same host.
    if (canonical !== undefined && canonical !== p.name && !onSwitch.has(canonical)) {
      ofports.set(canonical, p.portNo);
      renamed.set(p.name, canonical);
      continue;
    }
    ofports.set(p.name, p.portNo);
    const plain = p.portNo >>> 0 < MAX_PLAIN_OFPORT;
    if (
      fromOvsdb === undefined &&
      plain &&
      !reserved.has(p.name) &&
      remoteIpFromTunnelName(p.name) === undefined
    )
      candidates.push(p);
  }
  const missing = peers
    .map((p) => p.portName)
    .filter((n) => !ofports.has(n))
    .sort();
  const unmapped = candidates
    .map((p) => ({ port: p.name, ofport: p.portNo, expected: missing }))
    .sort((a, b) => (a.port < b.port ? -1 : a.port > b.port ? 1 : 0));
  return { ofports, renamed, unmapped };
}
