/**
 * The DVR compiler: golden output for examples/two-hosts.yaml, the flows
 * real OVS and our codec make of it, router placement, and the exact flow
 * delta of adding and removing a port.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../codec/message.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { runCompile } from "../../src/cli/commands/compile.js";
import { defaultOfports, type HostFlows, type HostOfports } from "../../src/dvr/compile/index.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import {
  FlowCollector,
  FlowConflictError,
  act,
  formatDesiredFlow,
  match,
  toFlowMod,
  type DesiredFlow,
} from "../../src/dvr/flow.js";
import { BR_INT, BR_TUN, INTENT, isLearned, isOurs, learnedCookie } from "../../src/dvr/tables.js";
import { indexTopology } from "../../src/topology/indexed.js";
import { ovsAvailable, ovsParseFlows, zeroXid } from "../ovs/ovs-harness.js";
import { compileOne, compileTopology, loadExample, ROOT } from "./helpers.js";

const GOLDEN = join(ROOT, "test", "dvr", "golden");

function allFlows(hosts: readonly HostFlows[]): DesiredFlow[] {
  return hosts.flatMap((h) => [...h.bridges["br-int"], ...h.bridges["br-tun"]]);
}

async function run(args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const status = await runCompile(args, {
    stdin: () => Promise.resolve(""),
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  return { status, out, err };
}

describe("golden: examples/two-hosts.yaml", () => {
  for (const host of ["compute-1", "compute-2"]) {
    it(`dvrflow compile --host ${host} --annotate matches the golden file`, async () => {
      const r = await run([
        "--config",
        join(ROOT, "examples", "two-hosts.yaml"),
        "--host",
        host,
        "--annotate",
      ]);
      expect(r.err).toBe("");
      expect(r.status).toBe(0);
      const file = join(GOLDEN, `two-hosts.${host}.flows`);
      if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(file)) writeFileSync(file, r.out);
      expect(r.out).toBe(readFileSync(file, "utf8"));
    });
  }

  it("--bridge prints only that bridge, without headers (replace-flows input)", async () => {
    const r = await run([
      "--config",
      join(ROOT, "examples", "two-hosts.yaml"),
      "--host",
      "compute-1",
      "--bridge",
      "br-tun",
    ]);
    expect(r.status).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines.every((l) => !l.startsWith("#"))).toBe(true);
    const h = await compileOne(loadExample("two-hosts.yaml"), "compute-1");
    expect(lines).toEqual(h.bridges["br-tun"].map(formatDesiredFlow));
  });

  it("refuses an unknown host and a bad bridge", async () => {
    const cfg = join(ROOT, "examples", "two-hosts.yaml");
    expect((await run(["--config", cfg, "--host", "compute-9"])).status).toBe(1);
    expect((await run(["--config", cfg, "--host", "compute-1", "--bridge", "br-ex"])).status).toBe(
      1,
    );
    expect((await run(["--host", "compute-1"])).status).toBe(1);
  });

  it("is deterministic (two compiles, same flows in the same order)", async () => {
    const t = loadExample("demo-3-hosts.yaml");
    const a = allFlows(await compileTopology(t)).map(formatDesiredFlow);
    const b = allFlows(await compileTopology(t)).map(formatDesiredFlow);
    expect(a).toEqual(b);
  });
});

describe("the compiled flows on the wire", () => {
  it.skipIf(!ovsAvailable())(
    "real ovs-ofctl parse-flows accepts every flow of both examples and encodes it to our bytes",
    async () => {
      const flows = [
        ...allFlows(await compileTopology(loadExample("two-hosts.yaml"))),
        ...allFlows(await compileTopology(loadExample("demo-3-hosts.yaml"))),
      ];
      expect(flows.length).toBeGreaterThan(400);
      const results = ovsParseFlows(flows.map(formatDesiredFlow)); // one ovs-ofctl call
      const refused = results
        .map((r, i) => (r.ok ? undefined : `${formatDesiredFlow(flows[i]!)}: ${r.error}`))
        .filter((x) => x !== undefined);
      expect(refused).toEqual([]);
      const differ: string[] = [];
      results.forEach((r, i) => {
        if (!r.ok) return;
        const ours = encodeMessage(toFlowMod(flows[i]!, 0));
        if (Buffer.compare(Buffer.from(ours), Buffer.from(zeroXid(r.bytes))) !== 0) {
          differ.push(formatDesiredFlow(flows[i]!));
        }
      });
      expect(differ).toEqual([]);
    },
  );

  it("every flow survives our codec: encode → decode, and text → parseFlow → same bytes", async () => {
    const flows = allFlows(await compileTopology(loadExample("demo-3-hosts.yaml")));
    for (const f of flows) {
      const bytes = encodeMessage(toFlowMod(f, 7));
      const back = decodeMessage(bytes);
      expect(encodeMessage(back)).toEqual(bytes);
      const reparsed = encodeMessage(flowModMessage(parseFlow(formatDesiredFlow(f)), 7));
      expect(Buffer.from(reparsed).toString("hex")).toBe(Buffer.from(bytes).toString("hex"));
    }
  });
});

describe("cookies", () => {
  it("every flow carries our prefix and its intent kind; learn gives the learned cookie", async () => {
    const t = loadExample("two-hosts.yaml");
    const flows = allFlows(await compileTopology(t));
    const prefix = t.controller.cookie_prefix;
    for (const f of flows) {
      expect(isOurs(f.cookie, prefix)).toBe(true);
      expect(isLearned(f.cookie, prefix)).toBe(false);
      expect(Number((f.cookie >> 48n) & 0xffn)).toBe(INTENT[f.origin.kind]);
      expect(f.cookie & 0xffffn).toBe(0n);
    }
    const learn = flows.filter((f) => formatDesiredFlow(f).includes("learn("));
    expect(learn).toHaveLength(8); // T7 ×3 + T8, on each of two hosts
    for (const f of learn) {
      expect(formatDesiredFlow(f)).toContain(`cookie=0x${learnedCookie(prefix).toString(16)}`);
    }
  });

  it("flows of one object share a cookie; different objects differ", async () => {
    const h = await compileOne(loadExample("two-hosts.yaml"), "compute-1");
    const flows = [...h.bridges["br-int"], ...h.bridges["br-tun"]];
    const byObject = new Map<string, Set<bigint>>();
    for (const f of flows) {
      if (f.origin.kind === "pipeline") continue;
      const k = `${f.origin.kind}/${f.origin.object}`;
      byObject.set(k, (byObject.get(k) ?? new Set()).add(f.cookie));
    }
    for (const cookies of byObject.values()) expect(cookies.size).toBe(1);
    const all = [...byObject.values()].map((s) => [...s][0]);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("router placement", () => {
  it("a router is on a host only when the host has a port on one of its subnets", async () => {
    const t = loadExample("demo-3-hosts.yaml");
    const hosts = await compileTopology(t);
    const placed = Object.fromEntries(hosts.map((h) => [h.host, h.routers]));
    expect(placed).toEqual({
      "compute-1": ["tenant-a", "tenant-b"],
      "compute-2": ["tenant-a", "tenant-b"],
      "compute-3": ["tenant-a", "tenant-b"],
    });
    // Move tenant-b's ports off compute-2: tenant-b leaves it.
    t.ports["b-db-1"]!.host = "compute-1";
    const moved = await compileTopology(t);
    const c2 = moved.find((h) => h.host === "compute-2")!;
    expect(c2.routers).toEqual(["tenant-a"]);
    expect(c2.networks.map((n) => n.name)).toEqual(["a-db", "a-web"]);
    const c2Flows = [...c2.bridges["br-int"], ...c2.bridges["br-tun"]];
    expect(c2Flows.filter((f) => f.origin.object.includes("tenant-b"))).toEqual([]);
    // The router's flows follow its placement: routes, ICMP/ARP for gateways, T21–T23.
    const routes = c2.bridges["br-int"].filter(
      (f) => f.table.id === BR_INT.DVR_ROUTING.id && f.priority > 0,
    );
    expect(routes.map((f) => f.origin.object).sort()).toEqual([
      "router tenant-a: a-db-v4 → a-db-v4",
      "router tenant-a: a-db-v4 → a-web-v4",
      "router tenant-a: a-web-v4 → a-db-v4",
      "router tenant-a: a-web-v4 → a-web-v4",
    ]);
  });

  it("a host without ports gets only the defaults, peer and tunnel flows", async () => {
    const t = loadExample("two-hosts.yaml");
    delete t.ports["vm-a2"];
    delete t.ports["vm-b2"];
    const c2 = (await compileTopology(t)).find((h) => h.host === "compute-2")!;
    expect(c2.routers).toEqual([]);
    expect(c2.networks).toEqual([]);
    const kinds = new Set(
      [...c2.bridges["br-int"], ...c2.bridges["br-tun"]].map((f) => f.origin.kind),
    );
    expect([...kinds].sort()).toEqual(["peer_host", "pipeline", "tunnel"]);
  });

  it("tenants stay apart: no route, neighbour or responder of one router matches the other's networks", async () => {
    const hosts = await compileTopology(loadExample("demo-3-hosts.yaml"));
    const c1 = hosts.find((h) => h.host === "compute-1")!;
    const lv = new Map(c1.networks.map((n) => [n.name, n.localVlan]));
    for (const f of c1.bridges["br-int"].filter(
      (x) => x.table.id === BR_INT.DVR_ROUTING.id && x.priority > 0,
    )) {
      const text = formatDesiredFlow(f);
      const tenant = f.origin.object.startsWith("router tenant-a") ? "a" : "b";
      const allowed = [...lv].filter(([n]) => n.startsWith(`${tenant}-`)).map(([, v]) => v);
      const m = /metadata=0x([0-9a-f]+)\/0xfff/.exec(text)!;
      const w = /write_metadata:0x([0-9a-f]+)\/0xfff/.exec(text)!;
      expect(allowed).toContain(parseInt(m[1]!, 16));
      expect(allowed).toContain(parseInt(w[1]!, 16));
    }
  });
});

describe("port add and remove", () => {
  /** Runtime port numbers: what the switch reported, unchanged by the edit. */
  function runtimeOfports(t: ReturnType<typeof loadExample>): Map<string, HostOfports> {
    const index = indexTopology(t);
    const m = new Map<string, HostOfports>();
    for (const h of index.hosts) {
      const d = defaultOfports(index, h.name);
      m.set(h.name, {
        "br-int": new Map([...d["br-int"], ["tap-vm-c1", 30]]),
        "br-tun": d["br-tun"],
      });
    }
    return m;
  }

  async function flowsOf(t: ReturnType<typeof loadExample>, ofports: Map<string, HostOfports>) {
    const snap = await offlineSnapshot(t);
    const { compileAll } = await import("../../src/dvr/compile/index.js");
    const hosts = compileAll(compileInputFromSnapshot(snap, ofports));
    return new Map(
      hosts.map((h) => [h.host, new Map(allFlows([h]).map((f) => [`${f.bridge} ${f.key}`, f]))]),
    );
  }

  it("adding a port adds exactly its flows on every host, and removing it takes exactly those away", async () => {
    const before = loadExample("two-hosts.yaml");
    const after = structuredClone(before);
    after.ports["vm-c1"] = {
      network: "blue",
      host: "compute-1",
      interface: "tap-vm-c1",
      mac_address: "fa:16:3e:cc:00:01",
      fixed_ips: ["203.0.113.12"],
      port_security: true,
    };
    const ofports = runtimeOfports(before);
    const a = await flowsOf(before, ofports);
    const b = await flowsOf(after, ofports);
    for (const host of ["compute-1", "compute-2"]) {
      const fa = a.get(host)!;
      const fb = b.get(host)!;
      const removed = [...fa.keys()].filter((k) => !fb.has(k));
      const changed = [...fa.keys()].filter(
        (k) => fb.has(k) && formatDesiredFlow(fa.get(k)!) !== formatDesiredFlow(fb.get(k)!),
      );
      const added = [...fb.values()].filter((f) => !fa.has(`${f.bridge} ${f.key}`));
      // tap-vm-c1 is plugged (ofport 30) before the port exists: on compute-1
      // it was a dead port (I29 drop), which the new port's flows replace.
      expect(removed).toEqual(host === "compute-1" ? ["br-int 0/2/in_port=0000001e,"] : []);
      if (host === "compute-1")
        expect(formatDesiredFlow(fa.get(removed[0]!)!)).toMatch(
          /priority=2,in_port=30 actions=drop$/,
        );
      expect(changed).toEqual([]);
      expect(added.length).toBeGreaterThan(0);
      for (const f of added) expect(f.origin.object).toBe("port vm-c1");
      const roles = added
        .map((f) => `${f.bridge}:${f.table.name}:${f.origin.role.split(" ")[0]}`)
        .sort();
      if (host === "compute-1") {
        // Port security (I23, I27, I25, I28), gratuitous-ARP pass, responder,
        // neighbour (local delivery), I19/I20.
        expect(roles).toEqual([
          "br-int:ARP_SPOOF:I25",
          "br-int:DVR_LOCAL_RESPONDER:ARP",
          "br-int:DVR_LOCAL_RESPONDER:gratuitous",
          "br-int:DVR_NEIGHBOR:static",
          "br-int:DVR_TO_SRC_MAC:I19",
          "br-int:LOCAL_SWITCHING:I23",
          "br-int:LOCAL_SWITCHING:I27",
          "br-int:MAC_SPOOF:I28",
          "br-int:TRANSIENT:I20",
        ]);
        const neighbor = added.find((f) => f.table.id === BR_INT.DVR_NEIGHBOR.id)!;
        expect(formatDesiredFlow(neighbor)).toContain(
          "actions=set_field:fa:16:3e:cc:00:01->eth_dst,output:30",
        );
      } else {
        // l2pop unicast and responder on br-tun, responder and neighbour (via the tunnel) on br-int.
        expect(roles).toEqual([
          "br-int:DVR_LOCAL_RESPONDER:ARP",
          "br-int:DVR_NEIGHBOR:static",
          "br-tun:ARP_RESPONDER:T19",
          "br-tun:UCAST_TO_TUN:T18",
        ]);
      }
    }
    // Removing is the same delta backwards: compiling `before` again gives `a`.
    const again = await flowsOf(before, ofports);
    for (const host of ["compute-1", "compute-2"]) {
      expect([...again.get(host)!.keys()]).toEqual([...a.get(host)!.keys()]);
    }
  });

  it("a port the switch has not reported yet is skipped, never output:-1", async () => {
    const t = loadExample("two-hosts.yaml");
    const index = indexTopology(t);
    const d = defaultOfports(index, "compute-1");
    const withoutVm = new Map([...d["br-int"]].filter(([n]) => n !== "tap-vm-a1"));
    const h = await compileOne(
      t,
      "compute-1",
      new Map([["compute-1", { "br-int": withoutVm, "br-tun": d["br-tun"] }]]),
    );
    expect(h.skipped.map((s) => `${s.bridge} ${s.port}`)).toContain("br-int tap-vm-a1");
    const text = h.bridges["br-int"].map(formatDesiredFlow).join("\n");
    expect(text).not.toContain("fa:16:3e:aa:00:01->eth_dst,output:");
    expect(text).not.toMatch(/in_port=10\b/);
  });

  it("a br-int port the switch reports that is not in the topology is dropped (I29), reserved ports are not", async () => {
    const t = loadExample("two-hosts.yaml");
    const d = defaultOfports(indexTopology(t), "compute-1");
    const offline = await compileOne(t, "compute-1", new Map([["compute-1", d]]));
    expect(offline.bridges["br-int"].filter((f) => f.origin.role.startsWith("I29"))).toEqual([]);
    const withStale = new Map([...d["br-int"], ["tap-gone", 42], ["br-int", 0xfffffffe]]);
    const h = await compileOne(
      t,
      "compute-1",
      new Map([["compute-1", { "br-int": withStale, "br-tun": d["br-tun"] }]]),
    );
    const dead = h.bridges["br-int"].filter((f) => f.origin.role.startsWith("I29"));
    expect(dead.map(formatDesiredFlow).map((l) => l.replace(/^cookie=\S+ /, ""))).toEqual([
      "priority=2,in_port=42 actions=drop",
    ]);
    // Everything else is what the switch without the stale port gets.
    const rest = h.bridges["br-int"].filter((f) => !f.origin.role.startsWith("I29"));
    expect(rest.map(formatDesiredFlow)).toEqual(offline.bridges["br-int"].map(formatDesiredFlow));
  });
});

describe("the table guard", () => {
  const origin = { kind: "pipeline" as const, object: "test", role: "test" };

  it("refuses a goto the table does not declare, and a table of another bridge", () => {
    const c = new FlowCollector("br-int", 0xd5);
    expect(() =>
      c.add(BR_INT.DVR_ROUTING, { priority: "miss", goto: BR_INT.ARP_SPOOF, origin }),
    ).toThrow(/may not go to ARP_SPOOF/);
    expect(() => c.add(BR_TUN.DVR_PROCESS, { priority: "miss", origin })).toThrow(
      /belongs to br-tun/,
    );
  });

  it("merges identical wishes and refuses conflicting ones for one match", () => {
    const c = new FlowCollector("br-tun", 0xd5);
    const spec = {
      priority: "fromPatch" as const,
      match: match().inPort(1),
      goto: BR_TUN.DVR_PROCESS,
      origin,
    };
    c.add(BR_TUN.LOCAL_SWITCHING, spec);
    c.add(BR_TUN.LOCAL_SWITCHING, { ...spec, match: match().inPort(1) });
    expect(c.flows()).toHaveLength(1);
    expect(() =>
      c.add(BR_TUN.LOCAL_SWITCHING, {
        priority: "fromPatch",
        match: match().inPort(1),
        actions: [act.normal()],
        origin,
      }),
    ).toThrow(FlowConflictError);
  });
});
