/**
 * Receive-side scaling for the multi-worker bench: a frame's worker is a
 * hash of its 5-tuple (IPv4 source/destination, protocol, L4 ports), or of
 * its MAC addresses when it is not IPv4, modulo the number of workers — as
 * a NIC's RSS spreads flows over queues, so that each worker owns its flows
 * and its caches and nothing is shared.
 */
export function shardOf(b: Uint8Array, o: number, len: number, shards: number): number {
  let h = 0x811c9dc5;
  const mix = (v: number): void => {
    h = Math.imul(h ^ v, 0x01000193);
  };
  const eth = len >= 14 ? (b[o + 12]! << 8) | b[o + 13]! : 0;
  if (eth === 0x0800 && len >= 34) {
    const ip = o + 14;
    for (let i = 12; i < 20; i++) mix(b[ip + i]!);
    mix(b[ip + 9]!);
    const l4 = ip + (b[ip]! & 0x0f) * 4;
    if (l4 + 4 <= o + len) for (let i = 0; i < 4; i++) mix(b[l4 + i]!);
  } else {
    for (let i = 0; i < 12 && i < len; i++) mix(b[o + i]!);
  }
  h ^= h >>> 16;
  return (h >>> 0) % shards;
}
