/**
 * Timing helpers for the benches: CPU-time measurement (the steadier figure
 * on a shared 2-core box) and the calibration probe of performance.md §3.5
 * (a 1k-entry Int32Array open-addressing probe over a 1M-packet batch, 95%
 * hits), so that runs on different machines compare as ratios.
 */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Wall and CPU nanoseconds per unit of `fn()` (which returns a checksum to keep it live). */
export function timeIt(
  units: number,
  fn: () => number,
): { wall: number; cpu: number; result: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = fn();
  const wall = Number(process.hrtime.bigint() - t0) / units;
  const c = process.cpuUsage(c0);
  return { wall, cpu: ((c.user + c.system) * 1000) / units, result };
}

/** ns per probe of the §3.5 baseline (median of 7 after 2 warm-ups). */
export function calibrationProbe(): number {
  const N = 1 << 20;
  const E = 1000;
  const CAP = 4096;
  const M = CAP - 1;
  const ka = new Int32Array(CAP);
  const kb = new Int32Array(CAP);
  const used = new Uint8Array(CAP);
  const hash = (a: number, c: number): number => {
    let h = (Math.imul(a, 0x9e3779b1) + Math.imul(c, 0x85ebca77)) | 0;
    h ^= h >>> 15;
    return h;
  };
  let s = 12345;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) | 0);
  const ea = new Int32Array(E);
  const eb = new Int32Array(E);
  for (let i = 0; i < E; i++) {
    ea[i] = rnd();
    eb[i] = rnd() & 0xffff;
    let j = hash(ea[i]!, eb[i]!) & M;
    while (used[j]) j = (j + 1) & M;
    used[j] = 1;
    ka[j] = ea[i]!;
    kb[j] = eb[i]!;
  }
  const pa = new Int32Array(N);
  const pb = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    if ((rnd() & 0xff) < 243) {
      const e = (rnd() >>> 1) % E;
      pa[i] = ea[e]!;
      pb[i] = eb[e]!;
    } else {
      pa[i] = rnd();
      pb[i] = rnd() & 0xffff;
    }
  }
  const run = (): number => {
    let hits = 0;
    for (let i = 0; i < N; i++) {
      const a = pa[i]!;
      const c = pb[i]!;
      let j = hash(a, c) & M;
      while (used[j]) {
        if (ka[j] === a && kb[j] === c) {
          hits++;
          break;
        }
        j = (j + 1) & M;
      }
    }
    return hits;
  };
  const times: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t = timeIt(N, run);
    if (r >= 2) times.push(t.cpu);
  }
  return median(times);
}
