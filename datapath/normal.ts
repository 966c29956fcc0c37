/**
 * The MAC learning table behind the NORMAL action (OVS lib/mac-learning.c,
 * ofproto-dpif-xlate.c `xlate_normal`; dvr-pipeline.md §0.2).
 *
 * Entries are keyed by (VLAN, MAC) and point at a port. An entry not
 * refreshed for `idleSeconds` (OVS default 300, `other_config:mac-aging-time`)
 * is ignored by lookups and removed by `expire`. A MAC seen on another port
 * moves there (the newest sighting wins, as in OVS without
 * gratuitous-ARP locking). Time is injected (`nowMs`): nothing here reads a
 * clock.
 *
 * Keys are numbers: the 48-bit MAC is exact in a double (hi * 2^32 + lo), and
 * one Map per VLAN keeps (VLAN, MAC) pairs apart, so lookups build no strings.
 */
import type { Port } from "./ports.js";

/** OVS `MAC_ENTRY_DEFAULT_IDLE_TIME`. */
export const MAC_ENTRY_IDLE_SECONDS = 300;
/** OVS `MAC_DEFAULT_MAX`. */
export const MAC_TABLE_MAX = 8192;

export interface MacEntry {
  readonly vlan: number;
  readonly mac: number;
  port: Port;
  seenMs: number;
}

const TWO_32 = 4294967296;

export function macNumber(hi: number, lo: number): number {
  return hi * TWO_32 + (lo >>> 0);
}

export class MacTable {
  private readonly byVlan = new Map<number, Map<number, MacEntry>>();
  private n = 0;
  idleSeconds = MAC_ENTRY_IDLE_SECONDS;
  maxEntries = MAC_TABLE_MAX;
  /** Bumped when a (VLAN, MAC) → port binding appears, moves or goes (caches key on it). */
  version = 0;

  get size(): number {
    return this.n;
  }

  /** Learns `mac` on `port` in `vlan`; true when the binding is new or moved. */
  learn(vlan: number, mac: number, port: Port, nowMs: number): boolean {
    let t = this.byVlan.get(vlan);
    if (t === undefined) {
      t = new Map();
      this.byVlan.set(vlan, t);
    }
    const e = t.get(mac);
    if (e !== undefined) {
      e.seenMs = nowMs;
      if (e.port === port) return false;
      e.port = port;
      this.version++;
      return true;
    }
    if (this.n >= this.maxEntries) this.evictOldest();
    t.set(mac, { vlan, mac, port, seenMs: nowMs });
    this.n++;
    this.version++;
    return true;
  }

  /** The port `mac` was learned on in `vlan`, or null (unknown or aged out). */
  lookup(vlan: number, mac: number, nowMs: number): Port | null {
    const e = this.byVlan.get(vlan)?.get(mac);
    if (e === undefined || nowMs - e.seenMs >= this.idleSeconds * 1000) return null;
    return e.port;
  }

  /** Removes entries idle for `idleSeconds`; returns how many. */
  expire(nowMs: number): number {
    let removed = 0;
    for (const [vlan, t] of this.byVlan) {
      for (const [mac, e] of t) {
        if (nowMs - e.seenMs >= this.idleSeconds * 1000) {
          t.delete(mac);
          removed++;
        }
      }
      if (t.size === 0) this.byVlan.delete(vlan);
    }
    this.n -= removed;
    if (removed > 0) this.version++;
    return removed;
  }

  /** Forgets every entry on `port` (port deleted or down, OVS `mac_learning_flush` per bundle). */
  flushPort(port: Port): void {
    for (const t of this.byVlan.values()) {
      for (const [mac, e] of t) {
        if (e.port === port) {
          t.delete(mac);
          this.n--;
        }
      }
    }
    this.version++;
  }

  *entries(): Generator<MacEntry> {
    for (const t of this.byVlan.values()) yield* t.values();
  }

  private evictOldest(): void {
    let oldest: MacEntry | null = null;
    for (const e of this.entries()) if (oldest === null || e.seenMs < oldest.seenMs) oldest = e;
    if (oldest !== null) {
      this.byVlan.get(oldest.vlan)?.delete(oldest.mac);
      this.n--;
    }
  }
}
