/**
 * Switch port numbers for the compiler.
 *
 * At run time ofports come from the switch (OFPMP_PORT_DESC, followed by
 * OFPT_PORT_STATUS): the caller passes one name → ofport map per bridge.
 * Offline (`dvrflow compile` without a switch) there is none, and
 * {@link defaultOfports} numbers ports the way a freshly plumbed host would
 * if `dvrflow plumb` requests these numbers (OVSDB `ofport_request`):
 *
 * - br-int: `patch-tun` = 1; each VM port its configured `ofport`, else
 *   10, 11, … in port-name order, skipping numbers already taken.
 * - br-tun: `patch-int` = 1; the VXLAN port to each other host 10, 11, …
 *   in host-name order.
 *
 * Names are Neutron's: `patch-tun`/`patch-int` for the patch pair, and
 * `vxlan-<remote tunnel IP as 8 hex digits>` for tunnel ports
 * (`ovs_lib` naming, dvr-pipeline.md §2.2, e.g. `vxlan-c633640c`).
 */
import type { IndexedHost, TopologyIndex } from "../../topology/indexed.js";
import type { BridgeName } from "../tables.js";

export const PATCH_INT = "patch-int";
export const PATCH_TUN = "patch-tun";
export const PATCH_OFPORT = 1;
export const FIRST_DEFAULT_OFPORT = 10;

/** port name → ofport, one map per bridge. */
export type OfportMap = ReadonlyMap<string, number>;
export type HostOfports = Readonly<Record<BridgeName, OfportMap>>;

/** `vxlan-c633640c` for 198.51.100.12. */
export function tunnelPortName(tunnelIp: number): string {
  return `vxlan-${(tunnelIp >>> 0).toString(16).padStart(8, "0")}`;
}

/** The offline numbering described above. */
export function defaultOfports(index: TopologyIndex, host: string): HostOfports {
  const brInt = new Map<string, number>([[PATCH_TUN, PATCH_OFPORT]]);
  const local = index.portsByHost.get(host) ?? [];
  const taken = new Set<number>([PATCH_OFPORT]);
  for (const p of local) if (p.ofport !== undefined) taken.add(p.ofport);
  let next = FIRST_DEFAULT_OFPORT;
  for (const p of local) {
    if (p.ofport !== undefined) {
      brInt.set(p.interfaceName, p.ofport);
      continue;
    }
    while (taken.has(next)) next++;
    brInt.set(p.interfaceName, next);
    taken.add(next);
  }
  const brTun = new Map<string, number>([[PATCH_INT, PATCH_OFPORT]]);
  let t = FIRST_DEFAULT_OFPORT;
  for (const h of index.hosts) {
    if (h.name === host) continue;
    brTun.set(tunnelPortName(h.tunnelIp), t++);
  }
  return { "br-int": brInt, "br-tun": brTun };
}

/** The remote hosts of `host` with their tunnel port names, in host-name order. */
export function peersOf(index: TopologyIndex, host: string): { host: IndexedHost; port: string }[] {
  return index.hosts
    .filter((h) => h.name !== host)
    .map((h) => ({ host: h, port: tunnelPortName(h.tunnelIp) }));
}
