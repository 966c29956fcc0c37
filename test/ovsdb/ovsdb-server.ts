/**
 * A private `ovsdb-server` for tests: a temporary run directory, a fresh
 * vswitch database (`ovsdb-tool create DB vswitch.ovsschema`), a unix
 * socket `db.sock` inside that directory, and optionally the remotes of the
 * Manager table (`db:Open_vSwitch,Open_vSwitch,manager_options`), which is
 * how a test gets a TCP remote with a chosen inactivity probe. No
 * ovs-vswitchd: nothing acts on the database, which is all these tests
 * need. The server is our child process and is stopped by its pid. Where
 * the tools are missing the suites skip with a warning, except under
 * DVRFLOW_REQUIRE_SYSTEM_TOOLS=1 (CI), where that is an error.
 *
 * Plus an independent reader of the resulting state through `ovs-vsctl
 * --format=json list` (not through our client), for the assertions.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool, skipLoudly } from "../helpers/tools.js";

export const VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

let available: boolean | undefined;
/** ovsdb-server, ovsdb-tool, ovs-vsctl and the vswitch schema are installed. */
export function ovsdbAvailable(): boolean {
  if (available === undefined) {
    available = ["ovsdb-server", "ovsdb-tool", "ovs-vsctl"].every((t) => hasTool(t));
    if (available && !existsSync(VSWITCH_SCHEMA)) {
      skipLoudly(VSWITCH_SCHEMA, "missing (apt-get install openvswitch-switch)");
      available = false;
    }
  }
  return available;
}

export interface PrivateOvsdb {
  readonly dir: string;
  readonly socket: string;
  /** `unix:<dir>/db.sock` */
  readonly remote: string;
  /** Runs `ovs-vsctl --db=… --no-wait ARGS` (no ovs-vswitchd to wait for); throws on failure. */
  vsctl(...args: string[]): string;
  /** Stops the server; `keep` leaves the run directory (and database) for a restart. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a server on a fresh database, or again on the database left in `dir`. */
export async function startOvsdbServer(reuseDir?: string): Promise<PrivateOvsdb> {
  const dir = reuseDir ?? mkdtempSync(join(tmpdir(), "dvrflow-ovsdb-"));
  const db = join(dir, "conf.db");
  const socket = join(dir, "db.sock");
  if (!existsSync(db)) {
    const created = spawnSync("ovsdb-tool", ["create", db, VSWITCH_SCHEMA], { encoding: "utf8" });
    if (created.status !== 0) throw new Error(`ovsdb-tool create: ${created.stderr}`);
  }
  rmSync(socket, { force: true }); // a stale socket would pass the readiness check below
  const child: ChildProcess = spawn(
    "ovsdb-server",
    [
      db,
      `--remote=punix:${socket}`,
      "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
      `--unixctl=${join(dir, "ovsdb-server.ctl")}`,
      `--log-file=${join(dir, "ovsdb-server.log")}`,
      "--no-chdir",
    ],
    { stdio: "ignore", env: { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir } },
  );
  let exited = false;
  child.once("exit", () => (exited = true));
  await waitFor(() => existsSync(socket) || exited, 10_000, "ovsdb-server socket");
  if (exited) {
    const log = existsSync(join(dir, "ovsdb-server.log"))
      ? readFileSync(join(dir, "ovsdb-server.log"), "utf8")
      : "";
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ovsdb-server exited at start: ${log}`);
  }
  const remote = `unix:${socket}`;
  return {
    dir,
    socket,
    remote,
    vsctl: (...args) => {
      const r = spawnSync("ovs-vsctl", [`--db=${remote}`, "--no-wait", "--timeout=10", ...args], {
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    },
    stop: async (options = {}) => {
      if (!exited) {
        child.kill("SIGTERM");
        await waitFor(() => exited, 5000, "ovsdb-server exit").catch(() => child.kill("SIGKILL"));
      }
      if (options.keep !== true) rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The database contents of interest, names instead of uuids, read with ovs-vsctl. */
export interface VsctlBridge {
  datapath_type: string;
  fail_mode: Json;
  protocols: Json;
  other_config: Record<string, string>;
  external_ids: Record<string, string>;
  controller: string[];
  ports: Record<
    string,
    {
      tag: Json;
      external_ids: Record<string, string>;
      interfaces: Record<
        string,
        {
          type: string;
          options: Record<string, string>;
          ofport_request: Json;
          external_ids: Record<string, string>;
        }
      >;
    }
  >;
}

/** `ovs-vsctl --format=json --data=json list TABLE` as objects keyed by heading. */
export function vsctlList(s: PrivateOvsdb, table: string): Record<string, Json>[] {
  const out = JSON.parse(s.vsctl("--format=json", "--data=json", "list", table)) as {
    headings: string[];
    data: Json[][];
  };
  return out.data.map((row) => Object.fromEntries(out.headings.map((h, i) => [h, row[i]!])));
}

function uuidOf(v: Json): string {
  if (Array.isArray(v) && v[0] === "uuid" && typeof v[1] === "string") return v[1];
  throw new Error(`not a uuid: ${JSON.stringify(v)}`);
}
function setOf(v: Json): Json[] {
  return Array.isArray(v) && v[0] === "set" ? (v[1] as Json[]) : [v];
}
function mapOf(v: Json): Record<string, string> {
  if (!Array.isArray(v) || v[0] !== "map") throw new Error(`not a map: ${JSON.stringify(v)}`);
  return Object.fromEntries((v[1] as [string, string][]).sort(([a], [b]) => (a < b ? -1 : 1)));
}
/** Optional scalar: the element, or null when empty. */
function optOf(v: Json): Json {
  const s = setOf(v);
  return s.length === 0 ? null : s[0]!;
}

/** Bridges reachable from the Open_vSwitch row, by name. */
export function vsctlState(s: PrivateOvsdb): Record<string, VsctlBridge> {
  const ifaces = new Map(vsctlList(s, "Interface").map((r) => [uuidOf(r._uuid!), r]));
  const ports = new Map(vsctlList(s, "Port").map((r) => [uuidOf(r._uuid!), r]));
  const ctls = new Map(vsctlList(s, "Controller").map((r) => [uuidOf(r._uuid!), r]));
  const root = vsctlList(s, "Open_vSwitch")[0];
  const attached = new Set(root === undefined ? [] : setOf(root.bridges!).map(uuidOf));
  const out: Record<string, VsctlBridge> = {};
  for (const b of vsctlList(s, "Bridge")) {
    if (!attached.has(uuidOf(b._uuid!))) continue;
    const bp: VsctlBridge["ports"] = {};
    for (const pu of setOf(b.ports!).map(uuidOf)) {
      const p = ports.get(pu)!;
      const pi: VsctlBridge["ports"][string]["interfaces"] = {};
      for (const iu of setOf(p.interfaces!).map(uuidOf)) {
        const i = ifaces.get(iu)!;
        pi[i.name as string] = {
          type: i.type as string,
          options: mapOf(i.options!),
          ofport_request: optOf(i.ofport_request!),
          external_ids: mapOf(i.external_ids!),
        };
      }
      bp[p.name as string] = {
        tag: optOf(p.tag!),
        external_ids: mapOf(p.external_ids!),
        interfaces: pi,
      };
    }
    out[b.name as string] = {
      datapath_type: b.datapath_type as string,
      fail_mode: optOf(b.fail_mode!),
      protocols: setOf(b.protocols!).sort(),
      other_config: mapOf(b.other_config!),
      external_ids: mapOf(b.external_ids!),
      controller: setOf(b.controller!)
        .map((u) => ctls.get(uuidOf(u))!.target as string)
        .sort(),
      ports: bp,
    };
  }
  return out;
}
