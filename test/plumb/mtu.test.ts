/**
 * A network's `mtu` becomes Interface.mtu_request on its VM ports (as
 * Neutron's OVS agent/os-vif set a VM port's MTU): in the plan, the diff,
 * the ovs-vsctl script, and against a private ovsdb-server. Without `mtu`
 * the column is not managed: never set, never cleared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OvsdbClient } from "../../src/ovsdb/client.js";
import {
  applyPlumbing,
  diffPlumbing,
  formatChange,
  renderVsctlScript,
  resolveState,
  type ObservedState,
  type PlumbOptions,
  type PlumbPlan,
} from "../../src/plumb/index.js";
import type { Operation } from "../../src/ovsdb/operations.js";
import { ovsdbAvailable, startOvsdbServer, type PrivateOvsdb } from "../ovsdb/ovsdb-server.js";
import { mtuRequests, planFor, twoHosts, withMtu } from "./helpers.js";

/** compute-1's VM ports: tap-vm-a1 on blue, tap-vm-b1 on red. */
const mixed = () => withMtu(withMtu(twoHosts(), "blue", 1400), "red", undefined);

const vmIfaces = (plan: PlumbPlan) =>
  plan.bridges.flatMap((b) => b.ports.map((p) => [p.name, p.role.kind, p.iface.mtuRequest]));

/** The Interface rows a transaction inserts, by name. */
function insertedIfaces(ops: readonly Operation[]): Map<string, Record<string, unknown>> {
  const m = new Map<string, Record<string, unknown>>();
  for (const o of ops) {
    if (o.op === "insert" && o.table === "Interface") m.set(String(o.row.name), o.row);
  }
  return m;
}

/** An observed state from the rows a fresh-database transaction inserts (uuids made up). */
function stateAfterInsert(ops: readonly Operation[]): ObservedState {
  const ids = new Map<string, string>();
  let n = 0;
  const uuidOf = (name: string) => {
    let u = ids.get(name);
    if (u === undefined)
      ids.set(name, (u = `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`));
    return u;
  };
  const rows: Record<string, Record<string, unknown>[]> = {};
  const resolve = (v: unknown): unknown =>
    Array.isArray(v)
      ? v[0] === "named-uuid"
        ? ["uuid", uuidOf(String(v[1]))]
        : v.map(resolve)
      : v;
  for (const o of ops) {
    if (o.op !== "insert") continue;
    const row: Record<string, unknown> = { _uuid: ["uuid", uuidOf(o["uuid-name"] ?? `x${++n}`)] };
    for (const [k, v] of Object.entries(o.row)) row[k] = resolve(v);
    (rows[o.table] ??= []).push(row);
  }
  // Columns OVSDB fills with defaults on insert, which the reader expects.
  const fill = (table: string, defaults: Record<string, unknown>) =>
    (rows[table] ?? []).map((r) => ({ ...defaults, ...r }));
  const empty = ["set", []];
  const emptyMap = ["map", []];
  return resolveState(
    rows.Open_vSwitch ?? [],
    fill("Bridge", {
      datapath_type: "",
      fail_mode: empty,
      protocols: empty,
      other_config: emptyMap,
      controller: empty,
    }),
    fill("Port", { tag: empty, external_ids: emptyMap }),
    fill("Interface", {
      options: emptyMap,
      ofport_request: empty,
      mtu_request: empty,
      ofport: empty,
      external_ids: emptyMap,
    }),
    rows.Controller ?? [],
  );
}

describe("network mtu → VM port mtu_request (pure)", () => {
  it("plans mtu_request on VM ports of networks with an mtu, and on nothing else", async () => {
    const { plan } = await planFor(mixed(), "compute-1");
    expect(vmIfaces(plan)).toEqual([
      ["patch-tun", "patch", undefined],
      ["tap-vm-a1", "vm", 1400],
      ["tap-vm-b1", "vm", undefined],
      ["patch-int", "patch", undefined],
      ["vxlan-c633640c", "tunnel", undefined],
    ]);
  });

  it("inserts mtu_request with a new VM port, and a re-read state needs nothing more", async () => {
    const { plan } = await planFor(mixed(), "compute-1", { controller: "tcp:127.0.0.1:6653" });
    const d = diffPlumbing(plan, { rootUuid: undefined, bridges: new Map() });
    const rows = insertedIfaces(d.operations);
    expect(rows.get("tap-vm-a1")?.mtu_request).toBe(1400);
    for (const name of ["tap-vm-b1", "patch-tun", "patch-int", "vxlan-c633640c", "br-int"]) {
      expect(rows.get(name), name).toBeDefined();
      expect(rows.get(name), name).not.toHaveProperty("mtu_request");
    }
    const after = stateAfterInsert(d.operations);
    const a1 = after.bridges.get("br-int")!.ports.find((p) => p.name === "tap-vm-a1")!;
    expect(a1.interfaces[0]!.mtuRequest).toBe(1400);
    expect(diffPlumbing(plan, after)).toEqual({ changes: [], operations: [] });
  });

  it("updates a differing or missing mtu_request, with a change line, and leaves it alone without mtu", async () => {
    const { plan: before } = await planFor(mixed(), "compute-1");
    const state = stateAfterInsert(
      diffPlumbing(before, { rootUuid: undefined, bridges: new Map() }).operations,
    );
    const ifaceUuid = (name: string) =>
      state.bridges.get("br-int")!.ports.find((p) => p.name === name)!.interfaces[0]!.uuid;

    // blue 1400 → 9000, red none → 1450: two updates, one change line each.
    const changed = withMtu(withMtu(twoHosts(), "blue", 9000), "red", 1450);
    const { plan } = await planFor(changed, "compute-1");
    const d = diffPlumbing(plan, state);
    expect(d.changes.map(formatChange)).toEqual([
      "port tap-vm-a1 on br-int: mtu_request 1400 -> 9000",
      "port tap-vm-b1 on br-int: mtu_request (none) -> 1450",
    ]);
    expect(d.operations.filter((o) => o.op !== "comment")).toEqual([
      {
        op: "update",
        table: "Interface",
        where: [["_uuid", "==", ["uuid", ifaceUuid("tap-vm-a1")]]],
        row: { mtu_request: 9000 },
      },
      {
        op: "update",
        table: "Interface",
        where: [["_uuid", "==", ["uuid", ifaceUuid("tap-vm-b1")]]],
        row: { mtu_request: 1450 },
      },
    ]);

    // No mtu anywhere: an existing mtu_request is not ours to clear.
    const none = withMtu(withMtu(twoHosts(), "blue", undefined), "red", undefined);
    const { plan: unmanaged } = await planFor(none, "compute-1");
    expect(diffPlumbing(unmanaged, state)).toEqual({ changes: [], operations: [] });
  });

  it("writes mtu_request=N into the script's `set interface` of the VM port only", async () => {
    const { plan } = await planFor(mixed(), "compute-1");
    const script = renderVsctlScript(plan);
    const command = (port: string) =>
      script
        .split(/\n(?=ovs-vsctl )/)
        .find((c) => c.startsWith(`ovs-vsctl --may-exist add-port br-int ${port} `));
    expect(command("tap-vm-a1")).toMatch(/-- set interface tap-vm-a1 [^\n]*mtu_request=1400/);
    expect(command("tap-vm-b1")).toBeDefined();
    expect(command("tap-vm-b1")).not.toContain("mtu_request");
    expect(script.match(/mtu_request/g)).toHaveLength(1);
  });
});

describe.skipIf(!ovsdbAvailable())("network mtu against ovsdb-server", () => {
  let srv: PrivateOvsdb;
  let client: OvsdbClient;
  const OPTS: PlumbOptions = { controller: "tcp:127.0.0.1:6653", datapathType: "netdev" };
  beforeAll(async () => {
    srv = await startOvsdbServer();
    client = await OvsdbClient.connect(srv.remote);
  });
  afterAll(async () => {
    await client?.close();
    await srv?.stop();
  });
  const apply = async (t = mixed()) =>
    applyPlumbing(client, (await planFor(t, "compute-1", OPTS)).plan);

  it("sets mtu_request on the VM ports of networks with an mtu; a second apply changes nothing", async () => {
    expect((await apply()).applied).toBe(true);
    expect(mtuRequests(srv)).toEqual({
      "br-int": null,
      "br-tun": null,
      "patch-int": null,
      "patch-tun": null,
      "tap-vm-a1": 1400,
      "tap-vm-b1": null,
      "vxlan-c633640c": null,
    });
    expect(srv.vsctl("get", "interface", "tap-vm-a1", "mtu_request").trim()).toBe("1400");
    const again = await apply();
    expect(again.changes).toEqual([]);
    expect(again.operations).toBe(0);
  });

  it("repairs a changed mtu_request, sets a new one, and leaves one it does not manage", async () => {
    srv.vsctl("set", "interface", "tap-vm-a1", "mtu_request=1300");
    srv.vsctl("set", "interface", "tap-vm-b1", "mtu_request=1234"); // red has no mtu: not ours
    const repaired = await apply();
    expect(repaired.changes.map(formatChange)).toEqual([
      "port tap-vm-a1 on br-int: mtu_request 1300 -> 1400",
    ]);
    expect(mtuRequests(srv)["tap-vm-a1"]).toBe(1400);
    expect(mtuRequests(srv)["tap-vm-b1"]).toBe(1234);

    const red = await apply(withMtu(mixed(), "red", 1450));
    expect(red.changes.map(formatChange)).toEqual([
      "port tap-vm-b1 on br-int: mtu_request 1234 -> 1450",
    ]);
    expect(mtuRequests(srv)["tap-vm-b1"]).toBe(1450);
    expect((await apply(withMtu(mixed(), "red", 1450))).changes).toEqual([]);
  });
});
