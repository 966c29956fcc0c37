/** Small helpers shared by the benchmarks. */

/** Bytes from a hex dump with whitespace and newlines. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[^0-9a-f]/gi, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function mbPerSecond(opsPerSecond: number, bytesPerOp: number): string {
  return ((opsPerSecond * bytesPerOp) / 1e6).toFixed(1);
}
