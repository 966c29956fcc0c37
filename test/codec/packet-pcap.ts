/**
 * Test support for the packet tests: write frames to a classic pcap file and
 * decode them with the installed oracles, `ovs-ofctl parse-pcap` (OVS's own
 * flow_extract) and `tshark`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool } from "../helpers/tools.js";

/** libpcap file: 24-byte global header, then a 16-byte record header per frame (DLT_EN10MB = 1). */
export function pcapBytes(frames: readonly Uint8Array[]): Uint8Array {
  let size = 24;
  for (const f of frames) size += 16 + f.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true); // magic, microsecond timestamps
  dv.setUint16(4, 2, true); // version 2.4
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true); // snaplen
  dv.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  let p = 24;
  frames.forEach((f, i) => {
    dv.setUint32(p, i, true); // ts_sec: the frame index, handy when debugging
    dv.setUint32(p + 8, f.length, true);
    dv.setUint32(p + 12, f.length, true);
    out.set(f, p + 16);
    p += 16 + f.length;
  });
  return out;
}

export const HAVE_OVS_OFCTL = hasTool("ovs-ofctl");
export const HAVE_TSHARK = hasTool("tshark");

function withPcap<T>(frames: readonly Uint8Array[], run: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "dvrflow-pkt-"));
  const file = join(dir, "frames.pcap");
  try {
    writeFileSync(file, pcapBytes(frames));
    return run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line of `ovs-ofctl parse-pcap` output per frame: OVS's extracted flow. */
export function ovsParsePcap(frames: readonly Uint8Array[]): string[] {
  return withPcap(frames, (file) => {
    const out = execFileSync("ovs-ofctl", ["parse-pcap", file], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    return out.split("\n").filter((l) => l.length > 0);
  });
}

/** `tshark -T fields` rows (tab-separated fields per frame), with extra `-o` preferences. */
export function tsharkFields(
  frames: readonly Uint8Array[],
  fields: readonly string[],
  prefs: readonly string[] = [],
): string[][] {
  return withPcap(frames, (file) => {
    const args = ["-n", "-r", file, "-T", "fields", "-E", "occurrence=f"];
    for (const p of prefs) args.push("-o", p);
    for (const f of fields) args.push("-e", f);
    const out = execFileSync("tshark", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return out
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.split("\t"));
  });
}

/** Parses an OVS flow string "tcp,in_port=ANY,vlan_tci=0x0000,dl_src=..." into its protocol keyword(s) and key=value map. */
export function parseOvsFlow(line: string): { words: string[]; fields: Map<string, string> } {
  const words: string[] = [];
  const fields = new Map<string, string>();
  for (const part of line.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) words.push(part);
    else fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { words, fields };
}
