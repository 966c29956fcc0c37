/**
 * The DVR bench packet mix (shared/dvr-bench/gen_dvr_bench.py, ported so the
 * bench needs no generated files): 8 VM ports on two networks; per source
 * port 256 distinct flows (2,048 in all), each 60% east-west UDP to a VM of
 * the same network, 35% UDP routed through the network's DVR gateway MAC to
 * a VM of the other network, 5% broadcast ARP requests. Frames are 60 bytes
 * (the script's 64-byte class without FCS), laid out exactly as the script
 * builds them (UDP payload of 18 zero bytes, valid IPv4 checksum, UDP
 * checksum 0; ARP padded with 18 zero bytes).
 *
 * Deterministic (xorshift32, seed 1); the packet order interleaves the ports
 * (packet i enters port 1 + i % 8), each port drawing uniformly from its 256
 * flows as the script does.
 */

export const N_PORTS = 8;
export const FLOWS_PER_PORT = 256;

const netOf = (p: number): number => (p <= N_PORTS / 2 ? 1 : 2);
const vmMac = (p: number): number[] => [0xfa, 0x16, 0x3e, 0, 0, p];
const gwMac = (net: number): number[] => [0xfa, 0x16, 0x3e, 0xff, 0, net];
const vmIp = (p: number): number[] => [10, 0, netOf(p), 10 + p];

/** xorshift32 (performance.md §7), as a [0, 1) draw. */
export function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function csum(b: number[]): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  while (s > 0xffff) s = (s >>> 16) + (s & 0xffff);
  return ~s & 0xffff;
}

/** UDP frame as gen_dvr_bench.py's udp_frame (60 bytes). */
export function udpFrame(
  smac: number[],
  dmac: number[],
  sip: number[],
  dip: number[],
  sport: number,
  dport: number,
): Uint8Array {
  const payload = new Array<number>(18).fill(0);
  const udpLen = 8 + payload.length;
  const udp = [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, udpLen >> 8, udpLen, 0, 0];
  const totLen = 20 + udpLen;
  const ip = [0x45, 0, totLen >> 8, totLen & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, ...sip, ...dip];
  const c = csum(ip);
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  return Uint8Array.from([...dmac, ...smac, 0x08, 0x00, ...ip, ...udp, ...payload]);
}

/** ARP request as gen_dvr_bench.py's arp_frame (60 bytes). */
export function arpFrame(smac: number[], sip: number[], tip: number[]): Uint8Array {
  const arp = [0, 1, 8, 0, 6, 4, 0, 1, ...smac, ...sip, 0, 0, 0, 0, 0, 0, ...tip];
  return Uint8Array.from([
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ...smac,
    0x08,
    0x06,
    ...arp,
    ...new Array<number>(18).fill(0),
  ]);
}

export interface MixFlow {
  readonly inPort: number;
  readonly kind: "east-west" | "routed" | "arp";
  readonly frame: Uint8Array;
}

/** The 2,048 distinct flows (256 per port), in port order. */
export function dvrFlowSet(seed = 1, flowsPerPort = FLOWS_PER_PORT): MixFlow[][] {
  const r = xorshift(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const perPort: MixFlow[][] = [];
  for (let p = 1; p <= N_PORTS; p++) {
    const same: number[] = [];
    const other: number[] = [];
    for (let q = 1; q <= N_PORTS; q++) {
      if (netOf(q) === netOf(p) && q !== p) same.push(q);
      else if (netOf(q) !== netOf(p)) other.push(q);
    }
    const flows: MixFlow[] = [];
    for (let k = 0; k < flowsPerPort; k++) {
      const x = r();
      const sport = 10000 + k;
      if (x < 0.6) {
        const q = pick(same);
        flows.push({
          inPort: p,
          kind: "east-west",
          frame: udpFrame(vmMac(p), vmMac(q), vmIp(p), vmIp(q), sport, 5001),
        });
      } else if (x < 0.95) {
        const q = pick(other);
        flows.push({
          inPort: p,
          kind: "routed",
          frame: udpFrame(vmMac(p), gwMac(netOf(p)), vmIp(p), vmIp(q), sport, 5001),
        });
      } else {
        flows.push({
          inPort: p,
          kind: "arp",
          frame: arpFrame(vmMac(p), vmIp(p), vmIp(pick(same))),
        });
      }
    }
    perPort.push(flows);
  }
  return perPort;
}

/** `n` packets of the mix: packet i enters port 1 + i % 8 and is a uniform draw from that port's flows. */
export function dvrPackets(n: number, seed = 1, flowsPerPort = FLOWS_PER_PORT): MixFlow[] {
  const set = dvrFlowSet(seed, flowsPerPort);
  const r = xorshift(seed ^ 0x5bd1e995);
  const out: MixFlow[] = [];
  for (let i = 0; i < n; i++) {
    const flows = set[i % N_PORTS]!;
    out.push(flows[Math.floor(r() * flows.length)]!);
  }
  return out;
}

/**
 * `n` packets that each need a new megaflow (the miss path, P4): routed UDP
 * frames (to the DVR gateway MAC) whose (in_port, IPv4 destination, TTL) is
 * never repeated. Half go to a VM of the other network with a TTL from 2 to
 * 255 (the walk 0 → 25 → 60 → 61 → 62 with the DVR rewrites and an output;
 * dec_ttl makes the TTL part of the megaflow, as in OVS), half to an unknown
 * host of 10.0.0.0/16 (0 → 25 → 60 → 61, dropped; the destination is part of
 * the megaflow). Up to 8 × 4 × 254 + 8 × 60,000 distinct packets.
 */
export function distinctPackets(n: number): MixFlow[] {
  const out: MixFlow[] = [];
  let known = 0;
  let unknown = 0;
  for (let i = 0; i < n; i++) {
    const p = 1 + (i % N_PORTS);
    const net = netOf(p);
    const other = net === 1 ? [5, 6, 7, 8] : [1, 2, 3, 4];
    let dip: number[];
    let ttl: number;
    if (i % 2 === 0 && known < N_PORTS * 4 * 254) {
      const k = Math.floor(known / N_PORTS);
      dip = vmIp(other[k % 4]!);
      ttl = 2 + (Math.floor(k / 4) % 254);
      known++;
    } else {
      const k = Math.floor(unknown / N_PORTS);
      // 10.0.x.y outside the VMs' networks: x in 3..242, y in 100..249
      dip = [10, 0, 3 + (Math.floor(k / 150) % 240), 100 + (k % 150)];
      ttl = 64;
      unknown++;
    }
    const f = udpFrame(vmMac(p), gwMac(net), vmIp(p), dip, 10000 + (i % 50000), 5001);
    f[22] = ttl;
    // Keep the IPv4 header checksum valid after the TTL change.
    f[24] = 0;
    f[25] = 0;
    const c = csum(Array.from(f.subarray(14, 34)));
    f[24] = c >> 8;
    f[25] = c & 0xff;
    out.push({ inPort: p, kind: "routed", frame: f });
  }
  return out;
}
