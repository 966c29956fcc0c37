/**
 * Deterministic generators for the switch's differential tests: the DVR
 * packet mix (with the corner cases that probe every flow of
 * ../shared/dvr-bench/flows.txt) and random flow tables over small value
 * domains with random packets (OVS tests/test-classifier.c style).
 */
import {
  arpReply,
  arpRequest,
  buildIpFrame,
  buildTcp,
  buildUdp,
  icmpEchoRequest,
  icmpv6EchoRequest,
  ipv4FromString,
  ipv6FromString,
} from "../../codec/packet/index.js";

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const macOf = (a: number, b: number, c: number): Uint8Array =>
  Uint8Array.of(0xfa, 0x16, a, 0, b, c);
const vmMac = (i: number): Uint8Array => macOf(0x3e, 0, i);
const gwMac = (net: number): Uint8Array => Uint8Array.of(0xfa, 0x16, 0x3e, 0xff, 0, net);
const vmIp = (i: number): number =>
  ipv4FromString(i <= 4 ? `10.0.1.${10 + i}` : `10.0.2.${10 + i}`);
const netOf = (i: number): number => (i <= 4 ? 1 : 2);

export interface Case {
  readonly inPort: number;
  readonly frame: Uint8Array;
}

/** The DVR packet mix plus the cases that probe every flow and corner of the tables. */
export function dvrCases(n: number, seed: number): Case[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const out: Case[] = [];
  while (out.length < n) {
    const src = int(1, 8);
    const inPort = r() < 0.9 ? src : int(1, 8);
    const net = netOf(src);
    const same = (net === 1 ? [1, 2, 3, 4] : [5, 6, 7, 8]).filter((x) => x !== src);
    const other = net === 1 ? [5, 6, 7, 8] : [1, 2, 3, 4];
    const srcMac =
      r() < 0.93
        ? vmMac(src)
        : pick([vmMac(int(1, 8)), macOf(0x3f, 0, int(0, 3)), macOf(0x3e, 9, int(0, 255))]);
    const vlan = r() < 0.06 ? { vlan: { vid: pick([1, 2, 3, 0, 4095]), pcp: int(0, 7) } } : {};
    const kind = r();
    let frame: Uint8Array;
    if (kind < 0.45) {
      // east-west (sometimes to an unknown or multicast destination)
      const dst =
        r() < 0.9
          ? vmMac(pick(same))
          : pick([vmMac(pick(other)), Uint8Array.of(1, 0, 0x5e, 0, 0, 1), macOf(0x3e, 0, 0x77)]);
      frame = buildUdp({
        eth: { src: srcMac, dst, ...vlan },
        ip: {
          kind: "ipv4",
          src: vmIp(src),
          dst: vmIp(pick(same)),
          ttl: int(1, 255),
          tos: pick([0, 0, 0x10, 0xb8]),
        },
        srcPort: int(1024, 65535),
        dstPort: pick([53, 80, 443, 5000]),
        payload: new Uint8Array(int(0, 40)),
      });
    } else if (kind < 0.8) {
      // routed via the gateway MAC, to a VM of the other net or an unknown host
      const dstIp =
        r() < 0.85
          ? vmIp(pick(other))
          : pick([
              ipv4FromString("10.0.1.99"),
              ipv4FromString("10.0.2.200"),
              ipv4FromString("192.168.7.7"),
            ]);
      const l4 = r();
      const eth = { src: srcMac, dst: r() < 0.95 ? gwMac(net) : gwMac(3 - net), ...vlan };
      const ip = {
        kind: "ipv4" as const,
        src: vmIp(src),
        dst: dstIp,
        ttl: pick([64, 64, 64, 2, 1, 0, 255]),
      };
      frame =
        l4 < 0.6
          ? buildUdp({
              eth,
              ip,
              srcPort: int(1024, 65535),
              dstPort: int(1, 65535),
              payload: new Uint8Array(int(0, 30)),
            })
          : l4 < 0.85
            ? buildTcp({ eth, ip, srcPort: int(1024, 65535), dstPort: pick([22, 80, 443]) })
            : icmpEchoRequest({ eth, ip, id: int(0, 65535), seq: int(0, 100) });
    } else if (kind < 0.92) {
      // ARP: requests (sometimes spoofed), replies
      const spa = r() < 0.85 ? vmIp(src) : vmIp(int(1, 8));
      frame =
        r() < 0.8
          ? arpRequest({
              sha: srcMac,
              spa,
              tpa: r() < 0.5 ? vmIp(pick(same)) : ipv4FromString(`10.0.${net}.1`),
              ...vlan,
            })
          : arpReply({ sha: srcMac, spa, tha: vmMac(pick(same)), tpa: vmIp(pick(same)), ...vlan });
    } else if (kind < 0.96) {
      // IPv6 and odd L3
      frame =
        r() < 0.5
          ? icmpv6EchoRequest({
              eth: { src: srcMac, dst: r() < 0.5 ? gwMac(net) : vmMac(pick(same)) },
              ip: {
                kind: "ipv6",
                src: ipv6FromString("2001:db8::1"),
                dst: ipv6FromString("2001:db8::2"),
                hopLimit: int(1, 255),
              },
              id: 1,
              seq: int(0, 9),
            })
          : buildIpFrame(
              { src: srcMac, dst: gwMac(net) },
              {
                ip: { kind: "ipv4", src: vmIp(src), dst: vmIp(pick(other)), ttl: int(0, 3) },
                proto: 47,
                l4: new Uint8Array(8),
              },
            );
    } else {
      // frames from the DVR MAC range (table 1) and truncated frames
      const f = buildUdp({
        eth: {
          src: macOf(0x3f, 0, int(0, 2)),
          dst: r() < 0.7 ? vmMac(int(1, 8)) : vmMac(9),
          vlan: { vid: pick([1, 2, 3]) },
        },
        ip: { kind: "ipv4", src: vmIp(src), dst: vmIp(int(1, 8)) },
        srcPort: 1,
        dstPort: 2,
      });
      frame = r() < 0.8 ? f : f.slice(0, int(14, f.length - 1));
    }
    out.push({ inPort, frame });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Property-generated flow tables: small value domains so that flows overlap
// and packets hit many of them (OVS tests/test-classifier.c style).
// ---------------------------------------------------------------------------

const MACS = ["00:00:00:00:00:01", "00:00:00:00:00:02", "00:00:00:00:00:03", "ff:ff:ff:ff:ff:ff"];
const IPS = ["10.0.0.1", "10.0.0.2", "10.0.1.1"];

/** One random flow in ovs-ofctl syntax (before validation). */
export function randomFlow(r: () => number, nTables: number, noFlood = false): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const table = Math.floor(r() * nTables);
  const m: string[] = [`table=${table}`, `priority=${1 + Math.floor(r() * 4)}`];
  const l3 = pick(["", "", "ip", "arp", "tcp", "udp"]);
  if (l3 !== "") m.push(l3);
  if (r() < 0.5) m.push(`in_port=${1 + Math.floor(r() * 4)}`);
  const vlan = pick(["any", "any", "none", "1", "2"]);
  if (vlan === "none") m.push("vlan_tci=0x0000/0x1fff");
  else if (vlan !== "any") m.push(`dl_vlan=${vlan}`);
  if (r() < 0.3) m.push(`dl_src=${pick(MACS.slice(0, 3))}`);
  if (r() < 0.3) m.push(`dl_dst=${pick(MACS)}`);
  if (l3 === "ip" || l3 === "tcp" || l3 === "udp") {
    if (r() < 0.4) m.push(`nw_dst=${pick(IPS)}`);
    if (r() < 0.2) m.push(`nw_src=${pick(["10.0.0.0/24", "10.0.0.1"])}`);
  }
  if ((l3 === "tcp" || l3 === "udp") && r() < 0.5) m.push(`tp_dst=${pick([53, 80])}`);
  if (l3 === "arp" && r() < 0.4) m.push(`arp_tpa=${pick(IPS)}`);
  if (table > 0 && r() < 0.3) m.push(`reg0=${Math.floor(r() * 3)}`);
  if (table > 0 && r() < 0.2) m.push(`metadata=${Math.floor(r() * 3)}`);
  const acts: string[] = [];
  const n = Math.floor(r() * 4);
  let tagged = vlan === "1" || vlan === "2" ? true : vlan === "none" ? false : undefined;
  for (let i = 0; i < n; i++) {
    const a = r();
    if (a < 0.3)
      acts.push(
        `output:${pick(noFlood ? ["1", "2", "3", "4", "IN_PORT"] : ["1", "2", "3", "4", "IN_PORT", "FLOOD", "ALL"])}`,
      );
    else if (a < 0.4)
      acts.push(`set_field:${pick(MACS.slice(0, 3))}->${pick(["eth_src", "eth_dst"])}`);
    else if (a < 0.5 && tagged === false) {
      acts.push(`push_vlan:0x8100,set_field:${4096 + 1 + Math.floor(r() * 2)}->vlan_vid`);
      tagged = true;
    } else if (a < 0.55 && tagged === true) {
      acts.push("pop_vlan");
      tagged = false;
    } else if (a < 0.62 && (l3 === "ip" || l3 === "tcp" || l3 === "udp"))
      acts.push(pick(["dec_ttl", `set_field:${pick(IPS)}->ip_dst`, "set_field:46->ip_dscp"]));
    else if (a < 0.7) acts.push(`load:${Math.floor(r() * 3)}->NXM_NX_REG0[]`);
    else if (a < 0.75 && table + 1 < nTables)
      acts.push(`resubmit(,${table + 1 + Math.floor(r() * (nTables - table - 1))})`);
    else if (a < 0.8 && !noFlood) acts.push("NORMAL");
    else if (a < 0.85 && (l3 === "tcp" || l3 === "udp"))
      acts.push(`set_field:${pick([53, 80, 8080])}->${l3}_dst`);
    else if (a < 0.88) acts.push(`write_actions(output:${pick(["1", "2", "3"])})`);
    else if (a < 0.91 && table + 1 < nTables)
      acts.push(
        `resubmit(${pick(["1", "2", "3", "4"])},${table + 1 + Math.floor(r() * (nTables - table - 1))})`,
      );
    else if (a < 0.93) acts.push(pick(["LOCAL", "output:LOCAL"]));
    else if (a < 0.95 && (l3 === "ip" || l3 === "tcp" || l3 === "udp"))
      acts.push(`set_field:${pick(["1", "2", "3"])}->ip_ecn`);
    else if (a < 0.97 && l3 === "arp") acts.push(`set_field:${pick(IPS)}->arp_spa`);
    else if (a < 0.99) acts.push("clear_actions");
  }
  if (r() < 0.25) acts.push(`write_metadata:${Math.floor(r() * 3)}/0xff`);
  if (table + 1 < nTables && r() < 0.5)
    acts.push(`goto_table:${table + 1 + Math.floor(r() * (nTables - table - 1))}`);
  // write_actions must come after apply actions; move them behind.
  const isInstr = (x: string): boolean =>
    x.startsWith("write_") || x.startsWith("goto_") || x === "clear_actions";
  const apply = acts.filter((x) => !isInstr(x));
  const rest = acts.filter(isInstr);
  const wa = rest.filter((x) => x.startsWith("write_actions") || x === "clear_actions");
  const wm = rest.filter((x) => x.startsWith("write_metadata"));
  const gt = rest.filter((x) => x.startsWith("goto_"));
  const all = [...apply, ...wa.slice(0, 1), ...wm.slice(0, 1), ...gt.slice(0, 1)];
  return `${m.join(",")},actions=${all.length === 0 ? "drop" : all.join(",")}`;
}

export function randomPacket(r: () => number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const mac = (s: string): Uint8Array => Uint8Array.from(s.split(":").map((x) => parseInt(x, 16)));
  const eth = {
    src: mac(pick(MACS.slice(0, 3))),
    dst: mac(pick(MACS)),
    ...(r() < 0.4 ? { vlan: { vid: pick([1, 2, 3]) } } : {}),
  };
  const ip = {
    kind: "ipv4" as const,
    src: ipv4FromString(pick(IPS)),
    dst: ipv4FromString(pick(IPS)),
    ttl: pick([64, 2, 1]),
  };
  const k = r();
  const frame =
    k < 0.35
      ? buildUdp({ eth, ip, srcPort: 1000, dstPort: pick([53, 80, 9]) })
      : k < 0.65
        ? buildTcp({ eth, ip, srcPort: 1000, dstPort: pick([53, 80, 9]) })
        : k < 0.85
          ? arpRequest({
              sha: eth.src,
              spa: ip.src,
              tpa: ip.dst,
              ...("vlan" in eth ? { vlan: eth.vlan } : {}),
            })
          : icmpEchoRequest({ eth, ip, id: 1, seq: 1 });
  return { inPort: 1 + Math.floor(r() * 4), frame };
}
