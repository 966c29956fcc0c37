/**
 * Random host MACs within a base, as Neutron's `get_random_mac(base_mac)`
 * (neutron-lib `utils/net.py`, used by `neutron/db/dvr_mac_db.py`): the
 * first three octets of the base are kept, the fourth too when it is not
 * 00, and the rest is random.
 */
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { formatMac, parseMac } from "../topology/addr.js";

/** A source of random bytes (tests inject a deterministic one). */
export type RandomBytes = (n: number) => Uint8Array;

export const cryptoRandomBytes: RandomBytes = (n) => new Uint8Array(nodeRandomBytes(n));

/** Neutron's `MAX_RETRIES` for the DVR MAC insert (neutron-lib `db/api.py`). */
export const DEFAULT_MAC_ATTEMPTS = 20;

export function randomMacInBase(base: string, random: RandomBytes): string {
  const b = base.split(":").map((x) => parseInt(x, 16));
  if (b.length !== 6 || parseMac(base) === undefined) throw new Error(`bad base MAC ${base}`);
  const keep = b[3] === 0 ? 3 : 4;
  const r = random(6 - keep);
  const octets = b.slice(0, keep);
  for (let i = 0; i < 6 - keep; i++) octets.push(r[i] ?? 0);
  return formatMac(octets.reduce((acc, o) => acc * 256 + o, 0));
}

/**
 * A deterministic byte stream from a seed string (xorshift32 over FNV-1a):
 * offline compiles derive each host's MAC from its name, so the same
 * topology gives the same MACs without a store.
 */
export function seededRandomBytes(seed: string): RandomBytes {
  let s = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) s = Math.imul(s ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  if (s === 0) s = 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}
