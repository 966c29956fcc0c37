/**
 * Semantic validation: the rules that span objects, which the schema cannot
 * express. Each rule says why it exists where the reason is not obvious; the
 * DVR-specific ones cite dvr-pipeline.md.
 */
import {
  cidrBroadcast,
  cidrContains,
  cidrOverlaps,
  formatCidr,
  isMulticastMac,
  parseCidr,
  parseIpv4,
  parseMac,
  type Ipv4Cidr,
} from "./addr.js";
import type { IssuePath, TopologyIssue } from "./issues.js";
import { NEUTRON_PORT_BASE_MAC, portInterface, type Topology } from "./schema.js";

/** The usual underlay MTU (Ethernet), Neutron's `global_physnet_mtu` default. */
export const UNDERLAY_MTU = 1500;
/**
 * What VXLAN over IPv4 adds to a tenant packet: the inner Ethernet header
 * (14), VXLAN (8), UDP (8) and the outer IPv4 header (20). Neutron subtracts
 * the same 50 (neutron-lib VXLAN_ENCAP_OVERHEAD 30 + IPv4 header 20).
 */
export const VXLAN_OVERHEAD = 50;
/** The largest VXLAN network MTU a 1500-byte underlay carries unfragmented. */
export const MAX_VXLAN_MTU_ON_ETHERNET = UNDERLAY_MTU - VXLAN_OVERHEAD;

class Issues {
  readonly list: TopologyIssue[] = [];
  error(path: IssuePath, message: string): void {
    this.list.push({ severity: "error", path, message });
  }
  warning(path: IssuePath, message: string): void {
    this.list.push({ severity: "warning", path, message });
  }
}

function cidrOf(text: string): Ipv4Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`schema let through a bad CIDR ${text}`);
  return r.cidr;
}

function ipOf(text: string): number {
  const v = parseIpv4(text);
  if (v === undefined) throw new Error(`schema let through a bad IP ${text}`);
  return v;
}

/** First 3 octets of a MAC base, and the 4th when it is not 00 (Neutron's rule). */
export function macBasePrefixBytes(base: string): number {
  return base.split(":")[3] === "00" ? 3 : 4;
}

function inMacBase(mac: string, base: string): boolean {
  const n = macBasePrefixBytes(base);
  return mac.split(":").slice(0, n).join(":") === base.split(":").slice(0, n).join(":");
}

/**
 * Every cross-object problem of a schema-valid document. Errors make the
 * document unusable; warnings are worth a look (`dvrflow check` prints both).
 */
export function validateTopology(t: Topology): TopologyIssue[] {
  const out = new Issues();
  const base = t.controller.dvr_base_mac;

  // --- controller ---------------------------------------------------------
  if (isMulticastMac(parseMac(base)!)) {
    out.error(["controller", "dvr_base_mac"], "must be a unicast MAC (first octet even)");
  }
  if (inMacBase(base, NEUTRON_PORT_BASE_MAC) || base.startsWith("fa:16:3e")) {
    // neutron/conf/db/dvr_mac_db.py: "must be different from base_mac".
    out.error(
      ["controller", "dvr_base_mac"],
      `must differ from the port base MAC ${NEUTRON_PORT_BASE_MAC}, or host MACs can collide with port MACs`,
    );
  }

  // --- hosts --------------------------------------------------------------
  const tunnelIps = new Map<string, string>();
  const dpids = new Map<bigint, string>();
  for (const [h, host] of Object.entries(t.hosts)) {
    const prev = tunnelIps.get(host.tunnel_ip);
    if (prev !== undefined) {
      out.error(
        ["hosts", h, "tunnel_ip"],
        `${host.tunnel_ip} is also the tunnel IP of host ${prev}`,
      );
    } else tunnelIps.set(host.tunnel_ip, h);
    for (const br of ["br-int", "br-tun"] as const) {
      const id = host.datapath_ids[br];
      const where = `${h} ${br}`;
      const other = dpids.get(id);
      if (other !== undefined) {
        out.error(
          ["hosts", h, "datapath_ids", br],
          `datapath id 0x${id.toString(16)} is also used by ${other}`,
        );
      } else dpids.set(id, where);
    }
    if (host.dvr_mac !== undefined && !inMacBase(host.dvr_mac, base)) {
      out.warning(["hosts", h, "dvr_mac"], `${host.dvr_mac} is outside dvr_base_mac ${base}`);
    }
  }

  // --- MAC uniqueness across ports, router interfaces and host DVR MACs ---
  const macs = new Map<string, string>();
  const claimMac = (mac: string, path: IssuePath, what: string): void => {
    const v = parseMac(mac)!;
    if (v === 0 || isMulticastMac(v)) {
      out.error(path, `${mac} is not a unicast MAC`);
      return;
    }
    const prev = macs.get(mac);
    if (prev !== undefined) out.error(path, `MAC ${mac} is already used by ${prev}`);
    else macs.set(mac, what);
  };
  for (const [h, host] of Object.entries(t.hosts)) {
    if (host.dvr_mac !== undefined) claimMac(host.dvr_mac, ["hosts", h, "dvr_mac"], `host ${h}`);
  }

  // --- networks -----------------------------------------------------------
  const segIds = new Map<number, string>();
  for (const [n, net] of Object.entries(t.networks)) {
    const prev = segIds.get(net.segmentation_id);
    if (prev !== undefined) {
      out.error(
        ["networks", n, "segmentation_id"],
        `VNI ${net.segmentation_id} is also used by network ${prev}`,
      );
    } else segIds.set(net.segmentation_id, n);
    if (net.type === "vxlan" && net.mtu !== undefined && net.mtu > MAX_VXLAN_MTU_ON_ETHERNET) {
      // A warning, not an error: jumbo-frame underlays exist, but nothing
      // here can see the underlay, and on a 1500-byte one full-size frames
      // are dropped (tunnel ports set DF, df_default=true).
      out.warning(
        ["networks", n, "mtu"],
        `mtu ${net.mtu} is above ${MAX_VXLAN_MTU_ON_ETHERNET}: VXLAN adds ${VXLAN_OVERHEAD} bytes ` +
          `(inner Ethernet, VXLAN, UDP, outer IPv4), so this network needs an underlay MTU of at least ` +
          `mtu+${VXLAN_OVERHEAD} = ${net.mtu + VXLAN_OVERHEAD} (a ${UNDERLAY_MTU}-byte underlay carries at most ${MAX_VXLAN_MTU_ON_ETHERNET})`,
      );
    }
  }

  // --- subnets ------------------------------------------------------------
  const subnetsByNetwork = new Map<string, { name: string; cidr: Ipv4Cidr }[]>();
  /** IPs claimed per network: "ip" → who. */
  const ipsByNetwork = new Map<string, Map<number, string>>();
  const claimIp = (network: string, ip: number, text: string, path: IssuePath, what: string) => {
    let m = ipsByNetwork.get(network);
    if (m === undefined) ipsByNetwork.set(network, (m = new Map()));
    const prev = m.get(ip);
    if (prev !== undefined)
      out.error(path, `${text} is already used by ${prev} on network ${network}`);
    else m.set(ip, what);
  };
  for (const [s, sub] of Object.entries(t.subnets)) {
    if (t.networks[sub.network] === undefined) {
      out.error(["subnets", s, "network"], `unknown network "${sub.network}"`);
      continue;
    }
    const c = cidrOf(sub.cidr);
    const same = subnetsByNetwork.get(sub.network) ?? [];
    for (const o of same) {
      if (cidrOverlaps(c, o.cidr)) {
        out.error(
          ["subnets", s, "cidr"],
          `${sub.cidr} overlaps subnet ${o.name} (${formatCidr(o.cidr)}) on network ${sub.network}`,
        );
      }
    }
    same.push({ name: s, cidr: c });
    subnetsByNetwork.set(sub.network, same);
    if (sub.gateway_ip !== undefined) {
      checkHostAddress(out, c, ipOf(sub.gateway_ip), sub.gateway_ip, ["subnets", s, "gateway_ip"]);
    }
  }
  const subnetOfIp = (network: string, ip: number): string | undefined =>
    subnetsByNetwork.get(network)?.find((x) => cidrContains(x.cidr, ip))?.name;

  // --- routers ------------------------------------------------------------
  /** subnet → { router, interface index } */
  const subnetRouter = new Map<string, { router: string; index: number; mac: string }>();
  for (const [r, router] of Object.entries(t.routers)) {
    const cidrs: { subnet: string; cidr: Ipv4Cidr }[] = [];
    if (router.interfaces.length < 2) {
      out.warning(
        ["routers", r, "interfaces"],
        "a router with fewer than two interfaces routes nothing",
      );
    }
    router.interfaces.forEach((itf, i) => {
      const path = ["routers", r, "interfaces", i] as const;
      claimMac(itf.mac_address, [...path, "mac_address"], `router ${r} interface on ${itf.subnet}`);
      const sub = t.subnets[itf.subnet];
      if (sub === undefined) {
        out.error([...path, "subnet"], `unknown subnet "${itf.subnet}"`);
        return;
      }
      const prev = subnetRouter.get(itf.subnet);
      if (prev !== undefined) {
        // dvr-pipeline.md §4.1: the agent's bookkeeping assumes one DVR
        // interface per subnet; two gateways on one subnet break restores.
        out.error(
          [...path, "subnet"],
          prev.router === r
            ? `router ${r} already has an interface on subnet ${itf.subnet}`
            : `subnet ${itf.subnet} is already attached to router ${prev.router} (one distributed router per subnet)`,
        );
        return;
      }
      subnetRouter.set(itf.subnet, { router: r, index: i, mac: itf.mac_address });
      const c = cidrOf(sub.cidr);
      for (const o of cidrs) {
        if (cidrOverlaps(c, o.cidr)) {
          out.error(
            [...path, "subnet"],
            `${itf.subnet} (${sub.cidr}) overlaps ${o.subnet} (${formatCidr(o.cidr)}) on router ${r}`,
          );
        }
      }
      cidrs.push({ subnet: itf.subnet, cidr: c });
      const ipText = itf.ip_address ?? sub.gateway_ip;
      if (ipText === undefined) {
        out.error(
          [...path, "ip_address"],
          `subnet ${itf.subnet} has no gateway_ip; give ip_address`,
        );
        return;
      }
      const ip = ipOf(ipText);
      if (
        checkHostAddress(
          out,
          c,
          ip,
          ipText,
          itf.ip_address === undefined
            ? ["subnets", itf.subnet, "gateway_ip"]
            : [...path, "ip_address"],
        )
      ) {
        if (t.networks[sub.network] !== undefined) {
          claimIp(sub.network, ip, ipText, [...path, "ip_address"], `router ${r}`);
        }
      }
    });
  }

  // --- ports --------------------------------------------------------------
  const ifNames = new Map<string, string>();
  const ofports = new Map<string, string>();
  const hostsWithPorts = new Set<string>();
  for (const [p, port] of Object.entries(t.ports)) {
    claimMac(port.mac_address, ["ports", p, "mac_address"], `port ${p}`);
    if (inMacBase(port.mac_address, base)) {
      out.warning(
        ["ports", p, "mac_address"],
        `${port.mac_address} lies in dvr_base_mac ${base}; host MACs are drawn from there`,
      );
    }
    const hostKnown = t.hosts[port.host] !== undefined;
    if (!hostKnown) out.error(["ports", p, "host"], `unknown host "${port.host}"`);
    else hostsWithPorts.add(port.host);
    const netKnown = t.networks[port.network] !== undefined;
    if (!netKnown) out.error(["ports", p, "network"], `unknown network "${port.network}"`);
    if (hostKnown) {
      const ifName = portInterface(p, port);
      const key = `${port.host}/${ifName}`;
      const prev = ifNames.get(key);
      if (prev !== undefined) {
        out.error(
          ["ports", p, "interface"],
          `interface ${ifName} on ${port.host} is also port ${prev}'s`,
        );
      } else ifNames.set(key, p);
      if (port.ofport !== undefined) {
        const okey = `${port.host}/${port.ofport}`;
        const o = ofports.get(okey);
        if (o !== undefined) {
          out.error(
            ["ports", p, "ofport"],
            `ofport ${port.ofport} on ${port.host} is also port ${o}'s`,
          );
        } else ofports.set(okey, p);
      }
    }
    if (!netKnown) continue;
    const gatewayMacs = new Map<string, string>();
    port.fixed_ips.forEach((ipText, i) => {
      const path = ["ports", p, "fixed_ips", i] as const;
      const ip = ipOf(ipText);
      const s = subnetOfIp(port.network, ip);
      if (s === undefined) {
        out.error(path, `${ipText} is in no subnet of network ${port.network}`);
        return;
      }
      if (!checkHostAddress(out, cidrOf(t.subnets[s]!.cidr), ip, ipText, path)) return;
      claimIp(port.network, ip, ipText, path, `port ${p}`);
      const gw = subnetRouter.get(s);
      if (gw !== undefined) gatewayMacs.set(gw.mac, s);
    });
    if (gatewayMacs.size > 1) {
      // dvr-pipeline.md §4.1: the restore flow (br-int table 1) is keyed by
      // (network, VM MAC) alone, so one VM can have only one gateway MAC.
      out.error(
        ["ports", p, "fixed_ips"],
        `addresses on subnets ${[...gatewayMacs.values()].join(", ")} have different gateway MACs; ` +
          "DVR restores one gateway MAC per (network, port MAC)",
      );
    }
  }
  for (const h of Object.keys(t.hosts)) {
    if (!hostsWithPorts.has(h))
      out.warning(["hosts", h], "host has no ports: it gets only the default flows");
  }
  return out.list;
}

/** The IP lies in the subnet and is neither its network nor its broadcast address. */
function checkHostAddress(
  out: Issues,
  c: Ipv4Cidr,
  ip: number,
  text: string,
  path: IssuePath,
): boolean {
  if (!cidrContains(c, ip)) {
    out.error(path, `${text} is outside ${formatCidr(c)}`);
    return false;
  }
  if (c.prefixLength < 31 && (ip === c.network || ip === cidrBroadcast(c))) {
    out.error(
      path,
      `${text} is the ${ip === c.network ? "network" : "broadcast"} address of ${formatCidr(c)}`,
    );
    return false;
  }
  return true;
}
