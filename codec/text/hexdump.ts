/**
 * OVS `ds_put_hex_dump`: 16 bytes per line, offset in 8 hex digits, a dash
 * between the 8th and 9th byte, and (with `ascii`) the printable characters
 * between bars. Used by ofp-print for payloads and undecodable messages.
 */
export function hexDump(
  bytes: Uint8Array,
  options: { ascii?: boolean; offset?: number } = {},
): string {
  const ascii = options.ascii ?? true;
  let ofs = options.offset ?? 0;
  let pos = 0;
  let out = "";
  const perLine = 16;
  while (pos < bytes.length) {
    const start = ofs % perLine;
    let end = perLine;
    if (end - start > bytes.length - pos) end = start + (bytes.length - pos);
    const n = end - start;
    let line = (ofs - start).toString(16).padStart(8, "0") + "  ";
    line += "   ".repeat(start);
    for (let i = start; i < end; i++) {
      line +=
        bytes[pos + i - start]!.toString(16).padStart(2, "0") + (i === perLine / 2 - 1 ? "-" : " ");
    }
    if (ascii) {
      line += "   ".repeat(perLine - end) + "|" + " ".repeat(start);
      for (let i = start; i < end; i++) {
        const c = bytes[pos + i - start]!;
        line += c >= 32 && c < 127 ? String.fromCharCode(c) : ".";
      }
      line += " ".repeat(perLine - end) + "|";
    } else {
      line = line.replace(/ $/, "");
    }
    out += `${line}\n`;
    ofs += n;
    pos += n;
  }
  return out;
}
