/**
 * What crossed the underlay, decoded by tshark (an oracle independent of
 * our codec): one record per VXLAN packet with the outer IPs, the VNI and
 * the inner Ethernet/IPv4/ARP fields.
 */
import { run } from "./sys.js";

export interface WireFrame {
  readonly outerSrc: string;
  readonly outerDst: string;
  readonly vni: number | undefined;
  readonly innerEthSrc: string | undefined;
  readonly innerEthDst: string | undefined;
  /** Inner EtherType, e.g. 0x0800, 0x0806. */
  readonly innerType: string | undefined;
  readonly innerIpSrc: string | undefined;
  readonly innerIpDst: string | undefined;
}

const FIELDS = ["ip.src", "ip.dst", "vxlan.vni", "eth.src", "eth.dst", "eth.type"] as const;

/** Decodes a capture of `udp port 4789` (VXLAN's IANA port, which tshark dissects by default). */
export function readVxlanCapture(file: string): WireFrame[] {
  const out = run("tshark", [
    "-n",
    "-r",
    file,
    "-d",
    "udp.port==4789,vxlan",
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=,",
    ...FIELDS.flatMap((f) => ["-e", f]),
  ]);
  const frames: WireFrame[] = [];
  for (const line of out.split("\n")) {
    if (line.trim() === "") continue;
    const [ipSrc, ipDst, vni, ethSrc, ethDst, ethType] = line
      .split("\t")
      .map((c) => (c === "" ? [] : c.split(",")));
    // Outer first, inner second (the VXLAN payload's own Ethernet and IPv4).
    frames.push({
      outerSrc: ipSrc?.[0] ?? "",
      outerDst: ipDst?.[0] ?? "",
      vni: vni?.[0] === undefined ? undefined : Number(vni[0]),
      innerEthSrc: ethSrc?.[1],
      innerEthDst: ethDst?.[1],
      innerType: ethType?.[1],
      innerIpSrc: ipSrc?.[1],
      innerIpDst: ipDst?.[1],
    });
  }
  return frames;
}

export interface ArpFrame {
  readonly ethSrc: string;
  readonly ethDst: string;
  /** 1 request, 2 reply. */
  readonly opcode: number;
  readonly senderIp: string;
  readonly targetIp: string;
}

/** Decodes a capture of `arp` frames. */
export function readArpCapture(file: string): ArpFrame[] {
  const fields = ["eth.src", "eth.dst", "arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4"];
  const out = run("tshark", [
    "-n",
    "-r",
    file,
    "-T",
    "fields",
    "-E",
    "separator=\t",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [ethSrc = "", ethDst = "", op = "0", senderIp = "", targetIp = ""] = l.split("\t");
      return { ethSrc, ethDst, opcode: Number(op), senderIp, targetIp };
    });
}
