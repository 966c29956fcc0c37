/**
 * `dvrflow ofp-print HEX|-`: prints OpenFlow 1.3 messages as
 * `ovs-ofctl -O OpenFlow13 ofp-print HEX` does.
 *
 * The hex may contain spaces, newlines and `-` (so `ovs-ofctl` hex dumps'
 * byte columns paste in). From stdin (`-`), several concatenated messages are
 * printed one after another, each framed by its own header length.
 *
 * Commander-free so the lead can wire it into src/cli/main.ts:
 * `runOfpPrint(args, io)` → exit status (0 ok, 1 bad input).
 */
import { ofpPrint, parseHex } from "../../../codec/text/ofp-print.js";

export interface CommandIo {
  readonly stdin: () => Promise<string>;
  readonly stdout: (s: string) => void;
  /** Diagnostics; defaults to stdout when absent. */
  readonly stderr?: (s: string) => void;
}

const USAGE = "usage: dvrflow ofp-print HEX|-\n";

/** Splits a byte string into whole messages by their header lengths. */
function splitMessages(bytes: Uint8Array): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 8)
      return out.length === 0 ? [bytes.subarray(pos)] : `trailing ${bytes.length - pos} bytes`;
    const len = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    if (len < 8 || pos + len > bytes.length) {
      // Hand the rest to ofpPrint, which reports truncation as OVS does.
      out.push(bytes.subarray(pos));
      return out;
    }
    out.push(bytes.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

export async function runOfpPrint(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  if (args.length !== 1) {
    err(USAGE);
    return 1;
  }
  const text = args[0] === "-" ? await io.stdin() : args[0]!;
  const bytes = parseHex(text);
  if (bytes === undefined) {
    err("dvrflow: ofp-print: input is not hex\n");
    return 1;
  }
  const messages = args[0] === "-" ? splitMessages(bytes) : [bytes];
  if (typeof messages === "string") {
    err(`dvrflow: ofp-print: ${messages}\n`);
    return 1;
  }
  for (const m of messages) io.stdout(ofpPrint(m));
  return 0;
}
