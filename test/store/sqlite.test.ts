/**
 * The embedded SQLite store: persistence across reopen, one unique DVR MAC
 * per host drawn within the base and reused, collisions retried as Neutron
 * does (a new draw per attempt, a bounded number of attempts), local VLANs
 * persisted and reused, and atomic commits (a rejected one changes nothing).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TopologyError } from "../../src/topology/issues.js";
import { parseTopologyText } from "../../src/topology/loader.js";
import type { Topology } from "../../src/topology/schema.js";
import { randomMacInBase, seededRandomBytes, type RandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import {
  GenerationConflictError,
  HostMacAllocationError,
  type StoreSnapshot,
} from "../../src/store/store.js";

const ROOT = join(import.meta.dirname, "..", "..");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmpDb(): string {
  const d = mkdtempSync(join(tmpdir(), "dvrflow-store-"));
  dirs.push(d);
  return join(d, "state.db");
}

function load(name: string): Topology {
  const r = parseTopologyText(readFileSync(join(ROOT, "examples", name), "utf8"));
  if (r.topology === undefined) throw new Error("bad example");
  return r.topology;
}

/** The demo topology (no configured DVR MACs) as a mutable copy. */
function demo(): Topology {
  return structuredClone(load("demo-3-hosts.yaml"));
}

/** A random source replaying fixed byte strings, then failing loudly. */
function replay(...draws: number[][]): RandomBytes {
  const queue = draws.map((d) => Uint8Array.from(d));
  return (n) => {
    const d = queue.shift();
    if (d === undefined) throw new Error("random source exhausted");
    expect(d.length).toBe(n);
    return d;
  };
}

function macs(s: StoreSnapshot): string[] {
  return [...s.hostMacs.values()];
}

describe("host MACs", () => {
  it("gives every host a distinct MAC within dvr_base_mac, and keeps it across reopen", async () => {
    const path = tmpDb();
    const a = new SqliteStore(path);
    const s1 = await a.commit(demo());
    expect([...s1.hostMacs.keys()]).toEqual(["compute-1", "compute-2", "compute-3"]);
    expect(new Set(macs(s1)).size).toBe(3);
    for (const m of macs(s1)) expect(m).toMatch(/^fa:16:3f:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    await a.close();

    const b = new SqliteStore(path);
    const loaded = await b.load();
    expect(loaded).toBeDefined();
    expect(loaded!.hostMacs).toEqual(s1.hostMacs);
    expect(loaded!.localVlans).toEqual(s1.localVlans);
    expect(loaded!.generation).toBe(1);
    expect(loaded!.topology).toEqual(s1.topology);
    // Re-committing the same document draws nothing and keeps the generation.
    const s2 = await b.commit(demo());
    expect(s2.hostMacs).toEqual(s1.hostMacs);
    expect(s2.generation).toBe(1);
    await b.close();
  });

  it("draws only for new hosts; a removed host's MAC is released", async () => {
    const store = new SqliteStore(":memory:");
    const t = demo();
    const s1 = await store.commit(t);
    const t2 = structuredClone(t);
    delete t2.hosts["compute-3"];
    for (const [p, port] of Object.entries(t2.ports))
      if (port.host === "compute-3") delete t2.ports[p];
    const s2 = await store.commit(t2);
    expect(s2.generation).toBe(2);
    expect([...s2.hostMacs.keys()]).toEqual(["compute-1", "compute-2"]);
    expect(s2.hostMacs.get("compute-1")).toBe(s1.hostMacs.get("compute-1"));
    expect(s2.localVlans.has("compute-3")).toBe(false);
    await store.close();
  });

  it("retries a draw that collides with another host's MAC (UNIQUE) or a port MAC", async () => {
    // compute-1 draws 01:02:03. compute-2 first draws the same (the UNIQUE
    // constraint refuses it), then a router interface's MAC (refused as taken:
    // fa:16:3e is not in the base, so use a port MAC placed inside the base),
    // then a fresh one. compute-3 succeeds at once.
    const t = demo();
    t.ports["a-web-1"]!.mac_address = "fa:16:3f:0a:0b:0c";
    const draws: Record<string, number[][]> = {
      "compute-1": [[1, 2, 3]],
      "compute-2": [
        [1, 2, 3],
        [0x0a, 0x0b, 0x0c],
        [4, 5, 6],
      ],
      "compute-3": [[7, 8, 9]],
    };
    const sources = Object.fromEntries(Object.entries(draws).map(([h, d]) => [h, replay(...d)]));
    const store = new SqliteStore(":memory:", { macRandom: (h) => sources[h]! });
    const s = await store.commit(t);
    expect(Object.fromEntries(s.hostMacs)).toEqual({
      "compute-1": "fa:16:3f:01:02:03",
      "compute-2": "fa:16:3f:04:05:06",
      "compute-3": "fa:16:3f:07:08:09",
    });
    await store.close();
  });

  it("gives up after maxMacAttempts collisions, and then nothing has changed", async () => {
    const store = new SqliteStore(":memory:", {
      maxMacAttempts: 3,
      macRandom: (h) => (h === "compute-1" ? replay([1, 1, 1]) : () => Uint8Array.from([1, 1, 1])),
    });
    const err = await store.commit(demo()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostMacAllocationError);
    expect((err as HostMacAllocationError).host).toBe("compute-2");
    expect(await store.load()).toBeUndefined();
    await store.close();
  });

  it("honours configured MACs; a host holding one as a drawn MAC draws again", async () => {
    const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
    const s1 = await store.commit(demo());
    const stolen = s1.hostMacs.get("compute-1")!;
    const t = demo();
    t.hosts["compute-2"]!.dvr_mac = stolen;
    const s2 = await store.commit(t);
    expect(s2.hostMacs.get("compute-2")).toBe(stolen);
    expect(s2.hostMacs.get("compute-1")).not.toBe(stolen);
    expect(new Set(macs(s2)).size).toBe(3);
    await store.close();
  });

  it("keeps the 4th octet of the base when it is not 00 (Neutron's rule)", () => {
    const r = replay([0xaa, 0xbb], [0xaa, 0xbb, 0xcc]);
    expect(randomMacInBase("fa:16:3f:12:00:00", r)).toBe("fa:16:3f:12:aa:bb");
    expect(randomMacInBase("fa:16:3f:00:00:00", r)).toBe("fa:16:3f:aa:bb:cc");
  });
});

describe("local VLANs", () => {
  it("numbers each host's networks lowest-first and keeps them when others come and go", async () => {
    const path = tmpDb();
    const store = new SqliteStore(path);
    const t = demo();
    const s1 = await store.commit(t);
    expect(Object.fromEntries(s1.localVlans.get("compute-1")!)).toEqual({
      "a-db": 1,
      "a-web": 2,
      "b-db": 3,
      "b-web": 4,
    });
    // compute-3 hosts a-db-2 and b-web-2; drop b-web-2: tenant-b's networks
    // leave compute-3, tenant-a's keep their VLANs.
    const before = s1.localVlans.get("compute-3")!;
    const t2 = structuredClone(t);
    delete t2.ports["b-web-2"];
    const s2 = await store.commit(t2);
    const after = s2.localVlans.get("compute-3")!;
    expect([...after.keys()]).toEqual(["a-db", "a-web"]);
    expect(after.get("a-db")).toBe(before.get("a-db"));
    expect(after.get("a-web")).toBe(before.get("a-web"));
    // Bring it back: the freed numbers are reused, lowest first.
    const s3 = await store.commit(t);
    expect(s3.localVlans.get("compute-3")).toEqual(before);
    await store.close();
    const reopened = new SqliteStore(path);
    expect((await reopened.load())!.localVlans).toEqual(s3.localVlans);
    await reopened.close();
  });
});

describe("atomic commits", () => {
  it("rejects an invalid topology and changes nothing", async () => {
    const store = new SqliteStore(":memory:");
    const s1 = await store.commit(demo());
    const bad = demo();
    bad.ports["a-web-2"]!.mac_address = bad.ports["a-web-1"]!.mac_address;
    await expect(store.commit(bad)).rejects.toBeInstanceOf(TopologyError);
    expect(await store.load()).toEqual(s1);
    await store.close();
  });

  it("refuses a commit at the wrong generation and changes nothing", async () => {
    const store = new SqliteStore(":memory:");
    const s1 = await store.commit(demo());
    const t = demo();
    delete t.ports["b-db-1"];
    const err = await store.commit(t, { expectedGeneration: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationConflictError);
    expect(await store.load()).toEqual(s1);
    const ok = await store.commit(t, { expectedGeneration: 1 });
    expect(ok.generation).toBe(2);
    await store.close();
  });
});
