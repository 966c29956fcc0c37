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
