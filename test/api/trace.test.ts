/**
 * `POST /v1/trace` (src/api/server.ts) and `dvrflow trace --api`: the
 * topology trace of src/trace/ run by the controller on the topology in
 * force, with the port numbers its switches reported. The oracle is
 * runTopologyTrace on the same snapshot with port numbers read from the
 * test switches themselves.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { defaultOfports, type HostOfports } from "../../src/dvr/compile/index.js";
import { indexTopology } from "../../src/topology/indexed.js";
import { runTopologyTrace, TRACE_FORMATS } from "../../src/trace/index.js";
import { TRACE_REPLY } from "../../src/api/write-replies.js";
import { until, type TestHost } from "../controller/helpers.js";
import { startRig, type Rig } from "../controller/rig.js";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

/** vm-b2 (red, compute-2) to vm-c1's address (blue, compute-1): routed across the tunnel. */
const TO_VM_C1 =
  "in_port=vm-b2,dl_src=fa:16:3e:bb:00:02,dl_dst=fa:16:3e:00:02:01,ip,nw_src=203.0.113.75,nw_dst=203.0.113.12,nw_ttl=64";
/** Where compute-1's switch has vm-c1's device: not the 12 `dvrflow plumb` would number it. */
const VM_C1_OFPORT = 33;

/** The rig with vm-c1 plugged on compute-1 at port 33 and committed. */
async function rigWithVmC1(): Promise<Rig> {
  const r = await startRig({ controller: { auditIntervalMs: 0 } });
  rigs.push(r);
  const lvBlue = r.ctl.snapshot.localVlans.get("compute-1")!.get("blue")!;
  r.hosts[0].int.addPort({ kind: "sink", name: "tap-vm-c1", ofport: VM_C1_OFPORT, tag: lvBlue });
  const put = await r.api.inject({
    method: "PUT",
    url: "/v1/ports/vm-c1?wait=applied&timeout=5s",
    payload: {
      network: "blue",
      host: "compute-1",
      interface: "tap-vm-c1",
      mac_address: "fa:16:3e:cc:00:01",
      fixed_ips: ["203.0.113.12"],
    },
  });
  expect(put.statusCode, put.body).toBe(200);
  return r;
}

/** Port numbers as the test switches have them (LOCAL aside). */
function switchOfports(hosts: readonly TestHost[]): Map<string, HostOfports> {
  const of = (ports: readonly { name: string; no: number }[]) =>
    new Map(ports.filter((p) => p.no <= 0xfeff).map((p) => [p.name, p.no]));
  return new Map(
    hosts.map((h) => [h.name, { "br-int": of(h.brInt.portList), "br-tun": of(h.brTun.portList) }]),
  );
}

interface TraceReply {
  generation: number;
  host: string;
  format: string;
  text: string;
  json: { legs: unknown[] };
  ofports: Record<string, Record<string, string>>;
}

describe("POST /v1/trace", () => {
  it("answers runTopologyTrace's trace of the same request, with the switches' port numbers", async () => {
    const r = await rigWithVmC1();
    const snapshot = r.ctl.snapshot;
    const ofports = switchOfports(r.hosts);
    for (const format of TRACE_FORMATS) {
      const res = await r.api.inject({
        method: "POST",
        url: "/v1/trace",
        payload: { host: "compute-2", microflow: TO_VM_C1, format },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<TraceReply>();
      const want = runTopologyTrace(
        snapshot,
        { host: "compute-2", microflow: TO_VM_C1, format },
        { ofports },
      );
      expect(body.text, format).toBe(want.text);
      expect(body.json).toEqual(JSON.parse(JSON.stringify(want.json)));
      expect(body).toMatchObject({ generation: 2, host: "compute-2", format });
      for (const key of TRACE_REPLY.required) expect(body).toHaveProperty(key);
    }
    // The live port number, not plumb's numbering: the offline trace differs.
    const detailed = (
      await r.api.inject({
        method: "POST",
        url: "/v1/trace",
        payload: { host: "compute-2", microflow: TO_VM_C1, format: "minimal" },
      })
    ).json<TraceReply>();
    expect(detailed.text).toContain("Output: port tap-vm-c1 (vm-c1) on compute-1");
    const offline = runTopologyTrace(snapshot, {
      host: "compute-2",
      microflow: TO_VM_C1,
      format: "detailed",
    });
    const live = runTopologyTrace(
      snapshot,
      { host: "compute-2", microflow: TO_VM_C1, format: "detailed" },
      { ofports },
    );
    expect(live.text).toContain(`output:${VM_C1_OFPORT}`);
    expect(offline.text).not.toContain(`output:${VM_C1_OFPORT}`);
    expect(detailed.ofports).toEqual({
      "compute-1": { "br-int": "switch", "br-tun": "switch" },
      "compute-2": { "br-int": "switch", "br-tun": "switch" },
    });
  });

  it("a bridge not connected is traced with plumb's numbering, and says so", async () => {
    const r = await rigWithVmC1();
    await r.hosts[0].int.disconnect();
    await until(
      () => !r.ctl.status().hosts["compute-1"]!["br-int"].connected,
      5000,
      "compute-1 br-int disconnected",
    );
    const res = await r.api.inject({
      method: "POST",
      url: "/v1/trace",
      payload: { host: "compute-2", microflow: TO_VM_C1, format: "detailed" },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<TraceReply>();
    expect(body.ofports["compute-1"]).toEqual({ "br-int": "offline", "br-tun": "switch" });
    const plumbed = defaultOfports(indexTopology(r.ctl.snapshot.topology), "compute-1");
    const ofports = switchOfports(r.hosts);
    ofports.set("compute-1", { ...ofports.get("compute-1")!, "br-int": plumbed["br-int"] });
    const want = runTopologyTrace(
      r.ctl.snapshot,
      { host: "compute-2", microflow: TO_VM_C1, format: "detailed" },
      { ofports },
    );
    expect(body.text).toBe(want.text);
    expect(body.text).toContain(`output:${plumbed["br-int"].get("tap-vm-c1")}`);
    expect(body.text).not.toContain(`output:${VM_C1_OFPORT}`);
  });

  it("bad requests answer 400 with what is wrong", async () => {
    const r = await rigWithVmC1();
    const post = (payload: object) => r.api.inject({ method: "POST", url: "/v1/trace", payload });
    const cases: [object, RegExp][] = [
      [{ host: "nope", microflow: TO_VM_C1 }, /no host "nope" \(hosts: compute-1, compute-2\)/],
      [{ host: "compute-2" }, /give microflow \(with in_port=\) or packet_hex/],
      [{ host: "compute-2", microflow: "in_port=vm-zz,ip" }, /vm-zz/],
      [{ host: "compute-2", microflow: "ip,nw_dst=203.0.113.12" }, /needs in_port=/],
      [{ host: "compute-2", microflow: TO_VM_C1, format: "yaml" }, /format/],
      [{ host: "compute-2", microflow: TO_VM_C1, max_hops: -1 }, /max_hops/],
      [{ host: "compute-2", microflow: TO_VM_C1, verbose: true }, /verbose/],
    ];
    for (const [payload, message] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const body = res.json<{ error: string; message: string }>();
      expect(body.error).toBe("bad_request");
      expect(body.message, JSON.stringify(payload)).toMatch(message);
    }
  });
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["node", "dvrflow", "trace", ...args], {
    stdin: () => Promise.resolve(""),
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  return { code, out, err };
}

describe("dvrflow trace --api", () => {
  it("prints the running controller's trace; a bad host exits 1 with the API's message", async () => {
    const r = await rigWithVmC1();
    await r.api.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(r.api.server.address() as AddressInfo).port}`;
    const ofports = switchOfports(r.hosts);
    for (const format of ["detailed", "json"] as const) {
      const got = await cli("--api", url, "compute-2", TO_VM_C1, "--format", format);
      const want = runTopologyTrace(
        r.ctl.snapshot,
        { host: "compute-2", microflow: TO_VM_C1, format },
        { ofports },
      );
      expect(got).toEqual({ code: 0, out: want.text, err: "" });
    }
    const hops = await cli("--api", url, "compute-2", TO_VM_C1, "--max-hops", "0");
    expect(hops.code).toBe(0);
    expect(hops.out).toContain("not followed (hop limit 0)");

    const bad = await cli("--api", url, "nope", TO_VM_C1);
    expect(bad.code).toBe(1);
    expect(bad.out).toBe("");
    expect(bad.err).toBe(
      `dvrflow trace: ${url} answered 400: no host "nope" (hosts: compute-1, compute-2)\n`,
    );
    expect((await cli("--api", url, "compute-2", TO_VM_C1, "--store", "x.db")).err).toMatch(
      /--store does not go with --api/,
    );
    expect((await cli("--api", url, "compute-2")).err).toMatch(/missing MICROFLOW/);
  });

  it("an unreachable controller exits 1", async () => {
    const r = await cli("--api", "http://127.0.0.1:9", "compute-1", "in_port=vm-a1,ip");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^dvrflow trace: cannot reach the dvrflow API at http:\/\/127\.0\.0\.1:9 \([^)]+\): is `dvrflow run` running\?/,
    );
  });
});
