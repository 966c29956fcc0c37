/**
 * A classic-pcap writer for OpenFlow-over-TCP captures (codec.md §7).
 *
 * Layout: pcap global header (magic a1b2c3d4, v2.4, snaplen 65535, linktype 1 =
 * Ethernet), then one record per TCP segment: Ethernet (14) + IPv4 (20, correct
 * total length) + TCP (20, PSH|ACK, sequence number advancing by the payload
 * length) + payload. Checksums are left zero: tshark does not verify them by
 * default. The stream goes switch port 40000 → controller port 6653, the
 * IANA OpenFlow port that Wireshark dissects as `openflow` by default.
 *
 * Segments are chosen by the caller: one message per segment gives one frame per
 * message (so tshark's verdicts map back to messages), while arbitrary cut
 * points exercise tshark's reassembly the same way a real socket would.
 */
import { concat } from "./hex.js";

export const OPENFLOW_TCP_PORT = 6653;
const ETH_HEADER = 14;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
/** Largest TCP payload an IPv4 packet (total length ≤ 65535) can carry. */
export const MAX_SEGMENT_PAYLOAD = 0xffff - IPV4_HEADER - TCP_HEADER;
const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6;
const TCP_FLAGS_PSH_ACK = 0x18;

export interface PcapOptions {
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** Initial TCP sequence number. */
  readonly isn?: number;
}

/** Writes `segments` (TCP payloads, in order, on one connection) as a pcap file. */
export function writePcap(segments: readonly Uint8Array[], options: PcapOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [globalHeader()];
  let seq = options.isn ?? 1;
  segments.forEach((payload, i) => {
    if (payload.length > MAX_SEGMENT_PAYLOAD) {
      throw new RangeError(
        `segment ${i} has ${payload.length} bytes, more than one IPv4 packet holds`,
      );
    }
    const frame = frameFor(payload, seq, options);
    parts.push(recordHeader(i, frame.length), frame);
    seq = (seq + payload.length) >>> 0;
  });
  return concat(...parts);
}

/** One segment per message: frame N+1 carries message N. */
export function pcapOfMessages(
  messages: readonly Uint8Array[],
  options: PcapOptions = {},
): Uint8Array {
  return writePcap(messages, options);
}

/** Splits one byte stream at the given cut offsets (ascending, inside the stream). */
export function splitStream(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from || cut >= stream.length) continue;
    out.push(stream.subarray(from, cut));
    from = cut;
  }
  out.push(stream.subarray(from));
  return out;
}

function globalHeader(): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  // Written little-endian with the magic a1b2c3d4, the most common on-disk form.
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, 65535 + ETH_HEADER + IPV4_HEADER + TCP_HEADER, true); // snaplen ≥ any frame we write
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  return b;
}

function recordHeader(index: number, length: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  // Deterministic timestamps, 1 ms apart, so captures are byte-identical per run.
  v.setUint32(0, 1_700_000_000 + Math.floor(index / 1000), true);
  v.setUint32(4, (index % 1000) * 1000, true);
  v.setUint32(8, length, true);
  v.setUint32(12, length, true);
  return b;
}

function frameFor(payload: Uint8Array, seq: number, options: PcapOptions): Uint8Array {
  const frame = new Uint8Array(ETH_HEADER + IPV4_HEADER + TCP_HEADER + payload.length);
  const v = new DataView(frame.buffer);
  // Ethernet: locally administered MACs, switch → controller.
  frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  v.setUint16(12, ETHERTYPE_IPV4);
  // IPv4, 192.0.2.1 → 192.0.2.2 (TEST-NET-1).
  const ip = ETH_HEADER;
  frame[ip] = 0x45;
  v.setUint16(ip + 2, IPV4_HEADER + TCP_HEADER + payload.length);
  v.setUint16(ip + 6, 0x4000); // DF
  frame[ip + 8] = 64;
  frame[ip + 9] = IPPROTO_TCP;
  frame.set([192, 0, 2, 1, 192, 0, 2, 2], ip + 12);
  // TCP: data offset 5 words, PSH|ACK.
  const tcp = ip + IPV4_HEADER;
  v.setUint16(tcp, options.srcPort ?? 40000);
  v.setUint16(tcp + 2, options.dstPort ?? OPENFLOW_TCP_PORT);
  v.setUint32(tcp + 4, seq);
  v.setUint32(tcp + 8, 1);
  frame[tcp + 12] = 5 << 4;
  frame[tcp + 13] = TCP_FLAGS_PSH_ACK;
  v.setUint16(tcp + 14, 0xffff);
  frame.set(payload, tcp + TCP_HEADER);
  return frame;
}
