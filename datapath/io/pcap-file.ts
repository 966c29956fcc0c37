/**
 * Classic libpcap capture files (the format of `tcpdump -w`, not pcapng), for
 * offline runs of the switch: frames read from a file enter a port, frames a
 * port transmits are appended to a file that tcpdump, tshark or Wireshark
 * read.
 *
 *     global header (24): magic u32 | major u16 = 2 | minor u16 = 4 |
 *                         thiszone i32 | sigfigs u32 | snaplen u32 | linktype u32
 *     record (16 + n):    ts_sec u32 | ts_frac u32 | incl_len u32 | orig_len u32 | data
 *
 * The magic says the byte order and the timestamp unit: 0xa1b2c3d4 for
 * microseconds, 0xa1b23c4d for nanoseconds, either byte order. We write
 * little-endian microseconds with LINKTYPE_ETHERNET (1), as tcpdump does on
 * x86. Pure: bytes in, bytes out; file access is the caller's
 * ({@link readPcapFile} and {@link PcapWriter} are the thin fs wrappers).
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** tcpdump's default snap length. */
export const DEFAULT_SNAPLEN = 262144;

export interface PcapRecord {
  /** Capture time in ms since the epoch (fractional). */
  readonly timeMs: number;
  /** The captured bytes (a view into the file's bytes). */
  readonly data: Uint8Array;
  /** Length on the wire (≥ data.length when the capture was truncated). */
  readonly origLen: number;
}

export interface PcapCapture {
  readonly linkType: number;
  readonly snapLen: number;
  readonly records: readonly PcapRecord[];
}

/** Parses a whole capture. Throws on a bad magic or a truncated record. */
export function parsePcap(bytes: Uint8Array): PcapCapture {
  if (bytes.length < GLOBAL_HEADER) throw new Error("pcap: file shorter than its header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  let nanos: boolean;
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) {
    little = true;
    nanos = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) {
    little = false;
    nanos = magicBe === PCAP_MAGIC_NS;
  } else {
    throw new Error(`pcap: bad magic 0x${magicBe.toString(16)} (pcapng is not supported)`);
  }
  const snapLen = dv.getUint32(16, little);
  const linkType = dv.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let pos = GLOBAL_HEADER;
  while (pos < bytes.length) {
    if (bytes.length - pos < RECORD_HEADER) throw new Error(`pcap: truncated record at ${pos}`);
    const sec = dv.getUint32(pos, little);
    const frac = dv.getUint32(pos + 4, little);
    const incl = dv.getUint32(pos + 8, little);
    const orig = dv.getUint32(pos + 12, little);
    pos += RECORD_HEADER;
    if (bytes.length - pos < incl) throw new Error(`pcap: truncated record data at ${pos}`);
    records.push({
      timeMs: sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3),
      data: bytes.subarray(pos, pos + incl),
      origLen: orig,
    });
    pos += incl;
  }
  return { linkType, snapLen, records };
}

/** The 24-byte global header we write. */
export function pcapGlobalHeader(
  snapLen = DEFAULT_SNAPLEN,
  linkType = LINKTYPE_ETHERNET,
): Uint8Array {
  const b = new Uint8Array(GLOBAL_HEADER);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, PCAP_MAGIC_US, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, snapLen, true);
  dv.setUint32(20, linkType, true);
  return b;
}

/** One record (header + data), truncated to `snapLen`. */
export function pcapRecord(
  frame: Uint8Array,
  timeMs: number,
  snapLen = DEFAULT_SNAPLEN,
): Uint8Array {
  const incl = Math.min(frame.length, snapLen);
  const b = new Uint8Array(RECORD_HEADER + incl);
  const dv = new DataView(b.buffer);
  const us = Math.max(0, Math.round(timeMs * 1000));
  dv.setUint32(0, Math.floor(us / 1e6), true);
  dv.setUint32(4, us % 1e6, true);
  dv.setUint32(8, incl, true);
  dv.setUint32(12, frame.length, true);
  b.set(frame.subarray(0, incl), RECORD_HEADER);
  return b;
}

/** Reads and parses a capture file; only Ethernet captures are accepted. */
export function readPcapFile(path: string): PcapCapture {
  const cap = parsePcap(new Uint8Array(readFileSync(path)));
  if (cap.linkType !== LINKTYPE_ETHERNET) {
    throw new Error(`${path}: link type ${cap.linkType} is not Ethernet`);
  }
  return cap;
}

/** Appends frames to a capture file as they are transmitted (synchronous: the file is complete at every point). */
export class PcapWriter {
  private fd: number | null;
  frames = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
    writeSync(this.fd, pcapGlobalHeader());
  }

  write(frame: Uint8Array, timeMs: number): void {
    if (this.fd === null) return;
    writeSync(this.fd, pcapRecord(frame, timeMs));
    this.frames++;
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
