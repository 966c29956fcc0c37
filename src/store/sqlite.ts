/**
 * The embedded store: one SQLite file (better-sqlite3), or `:memory:`.
 *
 * Tables:
 * - `meta(key, value)`: `generation` and the topology document (JSON).
 * - `dvr_host_macs(host PRIMARY KEY, mac_address UNIQUE)`: Neutron's
 *   table of the same name (`neutron/db/models/dvr.py`). The UNIQUE
 *   constraint is what catches two hosts drawing the same MAC; the insert
 *   is retried with a new draw, up to `maxMacAttempts` (Neutron: 20 retries
 *   of `_create_dvr_mac_address`). Neutron waits between retries because
 *   its collisions come from concurrent servers; here the whole commit is
 *   one SQLite write transaction, so a retry needs no wait.
 * - `local_vlans(host, network, vlan)`: one row per network present on a
 *   host, unique per (host, vlan). Neutron keeps these in agent memory and
 *   renumbers on restart; persisting them lets a restarted controller find
 *   every installed flow unchanged.
 */
import Database from "better-sqlite3";
import { parseMac } from "../topology/addr.js";
import { indexTopology, localVlanNeeds } from "../topology/indexed.js";
import { hasErrors, TopologyError } from "../topology/issues.js";
import { parseTopologyValue } from "../topology/loader.js";
import { topologyToJson, type Topology } from "../topology/schema.js";
import { validateTopology } from "../topology/validate.js";
import {
  cryptoRandomBytes,
  DEFAULT_MAC_ATTEMPTS,
  randomMacInBase,
  type RandomBytes,
} from "./mac-alloc.js";
import {
  GenerationConflictError,
  HostMacAllocationError,
  LocalVlanExhaustedError,
  type CommitOptions,
  type StoreSnapshot,
  type TopologyStore,
} from "./store.js";

const SCHEMA_VERSION = 1;
/** 802.1Q VIDs usable as local VLANs (0 = untagged, 4095 = Neutron's dead VLAN). */
const MIN_LOCAL_VLAN = 1;
const MAX_LOCAL_VLAN = 4094;

export interface SqliteStoreOptions {
  /** Random source for a host's MAC draws; default crypto. */
  readonly macRandom?: (host: string) => RandomBytes;
  /** Draws per host before giving up (Neutron MAX_RETRIES = 20). */
  readonly maxMacAttempts?: number;
}

interface Row {
  host: string;
  mac_address: string;
}
interface VlanRow {
  host: string;
  network: string;
  vlan: number;
}

function isUniqueViolation(err: unknown): boolean {
  return (
    typeof err === "object" &&
    err !== null &&
    "code" in err &&
    ((err as { code: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE" ||
      (err as { code: unknown }).code === "SQLITE_CONSTRAINT_PRIMARYKEY")
  );
}

export class SqliteStore implements TopologyStore {
  private readonly db: Database.Database;
  private readonly macRandom: (host: string) => RandomBytes;
  private readonly maxMacAttempts: number;

  /** Opens (creating if needed) the store at `path` (":memory:" for a throwaway one). */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.db = new Database(path);
    this.macRandom = options.macRandom ?? (() => cryptoRandomBytes);
    this.maxMacAttempts = options.maxMacAttempts ?? DEFAULT_MAC_ATTEMPTS;
    if (path !== ":memory:") this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`store schema ${version} is newer than this dvrflow (${SCHEMA_VERSION})`);
    }
    if (version === SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dvr_host_macs (
        host TEXT PRIMARY KEY,
        mac_address TEXT NOT NULL UNIQUE
      );
      CREATE TABLE IF NOT EXISTS local_vlans (
        host TEXT NOT NULL,
        network TEXT NOT NULL,
        vlan INTEGER NOT NULL CHECK (vlan BETWEEN ${MIN_LOCAL_VLAN} AND ${MAX_LOCAL_VLAN}),
        PRIMARY KEY (host, network),
        UNIQUE (host, vlan)
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  load(): Promise<StoreSnapshot | undefined> {
    return Promise.resolve(this.readSnapshot());
  }

  private readSnapshot(): StoreSnapshot | undefined {
    const doc = this.db.prepare("SELECT value FROM meta WHERE key = 'topology'").get() as
      { value: string } | undefined;
    if (doc === undefined) return undefined;
    const parsed = parseTopologyValue(JSON.parse(doc.value));
    if (parsed.topology === undefined) {
      throw new TopologyError(parsed.issues, "stored topology");
    }
    const hostMacs = new Map<string, string>();
    for (const r of this.db
      .prepare("SELECT host, mac_address FROM dvr_host_macs ORDER BY host")
      .all() as Row[]) {
      hostMacs.set(r.host, r.mac_address);
    }
    const localVlans = new Map<string, Map<string, number>>();
    for (const r of this.db
      .prepare("SELECT host, network, vlan FROM local_vlans ORDER BY host, network")
      .all() as VlanRow[]) {
      let m = localVlans.get(r.host);
      if (m === undefined) localVlans.set(r.host, (m = new Map()));
      m.set(r.network, r.vlan);
    }
    return { generation: this.generation(), topology: parsed.topology, hostMacs, localVlans };
  }

  private generation(): number {
    const g = this.db.prepare("SELECT value FROM meta WHERE key = 'generation'").get() as
      { value: string } | undefined;
    return g === undefined ? 0 : Number(g.value);
  }

  commit(topology: Topology, options: CommitOptions = {}): Promise<StoreSnapshot> {
    try {
      return Promise.resolve(this.commitSync(topology, options));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private commitSync(topology: Topology, options: CommitOptions): StoreSnapshot {
    const issues = validateTopology(topology);
    if (hasErrors(issues)) throw new TopologyError(issues);
    const index = indexTopology(topology);
    const json = JSON.stringify(topologyToJson(topology));
    const run = this.db.transaction(() => {
      const current = this.generation();
      if (options.expectedGeneration !== undefined && options.expectedGeneration !== current) {
        throw new GenerationConflictError(options.expectedGeneration, current);
      }
      const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'topology'").get() as
        { value: string } | undefined;
      if (stored?.value !== json) {
        const put = this.db.prepare(
          "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        );
        put.run("topology", json);
        put.run("generation", String(current + 1));
      }
      this.syncHostMacs(topology);
      this.syncLocalVlans(localVlanNeeds(index));
    });
    run.immediate();
    const snap = this.readSnapshot();
    if (snap === undefined) throw new Error("store: commit left no topology");
    return snap;
  }

  /** Removes MACs of deleted hosts, applies configured ones, draws the missing ones. */
  private syncHostMacs(t: Topology): void {
    const hosts = new Set(Object.keys(t.hosts));
    const rows = this.db.prepare("SELECT host, mac_address FROM dvr_host_macs").all() as Row[];
    const del = this.db.prepare("DELETE FROM dvr_host_macs WHERE host = ?");
    for (const r of rows) if (!hosts.has(r.host)) del.run(r.host);

    // Configured MACs win: a host whose drawn MAC is now configured for
    // another host gives it up and draws again below.
    const upsert = this.db.prepare(
      "INSERT INTO dvr_host_macs (host, mac_address) VALUES (?, ?) " +
        "ON CONFLICT (host) DO UPDATE SET mac_address = excluded.mac_address",
    );
    const holder = this.db.prepare("SELECT host FROM dvr_host_macs WHERE mac_address = ?");
    for (const [h, host] of Object.entries(t.hosts)) {
      if (host.dvr_mac === undefined) continue;
      const other = holder.get(host.dvr_mac) as { host: string } | undefined;
      if (other !== undefined && other.host !== h) del.run(other.host);
      upsert.run(h, host.dvr_mac);
    }

    // MACs the topology uses elsewhere are taken too (ecosystem.md §4.1:
    // `check` warns about DVR MACs colliding with port MACs; we avoid them).
    const taken = new Set<string>();
    for (const p of Object.values(t.ports)) taken.add(p.mac_address);
    for (const r of Object.values(t.routers))
      for (const i of r.interfaces) taken.add(i.mac_address);
    const has = this.db.prepare("SELECT 1 FROM dvr_host_macs WHERE host = ?");
    const insert = this.db.prepare("INSERT INTO dvr_host_macs (host, mac_address) VALUES (?, ?)");
    for (const h of Object.keys(t.hosts).sort()) {
      if (has.get(h) !== undefined) continue;
      const random = this.macRandom(h);
      let done = false;
      for (let attempt = 0; attempt < this.maxMacAttempts && !done; attempt++) {
        const mac = randomMacInBase(t.controller.dvr_base_mac, random);
        if (taken.has(mac) || parseMac(mac) === 0) continue;
        try {
          insert.run(h, mac);
          done = true;
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
      }
      if (!done) throw new HostMacAllocationError(h, this.maxMacAttempts);
    }
  }

  /** Keeps the VLAN of every (host, network) still needed, frees the rest, numbers the new ones lowest-first. */
  private syncLocalVlans(needs: ReadonlyMap<string, readonly string[]>): void {
    const rows = this.db.prepare("SELECT host, network, vlan FROM local_vlans").all() as VlanRow[];
    const del = this.db.prepare("DELETE FROM local_vlans WHERE host = ? AND network = ?");
    const used = new Map<string, Set<number>>();
    const have = new Set<string>();
    for (const r of rows) {
      if (!(needs.get(r.host) ?? []).includes(r.network)) {
        del.run(r.host, r.network);
        continue;
      }
      have.add(`${r.host}\u0000${r.network}`);
      let u = used.get(r.host);
      if (u === undefined) used.set(r.host, (u = new Set()));
      u.add(r.vlan);
    }
    const insert = this.db.prepare(
      "INSERT INTO local_vlans (host, network, vlan) VALUES (?, ?, ?)",
    );
    for (const [host, networks] of needs) {
      const u = used.get(host) ?? new Set<number>();
      let next = MIN_LOCAL_VLAN;
      for (const n of networks) {
        if (have.has(`${host}\u0000${n}`)) continue;
        while (u.has(next)) next++;
        if (next > MAX_LOCAL_VLAN) throw new LocalVlanExhaustedError(host);
        insert.run(host, n, next);
        u.add(next);
      }
    }
  }

  /**
   * Takes over the MACs and local VLANs of another store's snapshot, for
   * hosts and networks that have none here: an offline compile runs on a
   * throwaway copy and sees exactly what the controller's store holds,
   * without writing to it.
   */
  importAllocations(snapshot: Pick<StoreSnapshot, "hostMacs" | "localVlans">): void {
    const mac = this.db.prepare(
      "INSERT OR IGNORE INTO dvr_host_macs (host, mac_address) VALUES (?, ?)",
    );
    const vlan = this.db.prepare(
      "INSERT OR IGNORE INTO local_vlans (host, network, vlan) VALUES (?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const [h, m] of snapshot.hostMacs) mac.run(h, m);
      for (const [h, nets] of snapshot.localVlans) for (const [n, v] of nets) vlan.run(h, n, v);
    })();
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
