/**
 * Real `ovs-ofctl -O OpenFlow13` against a running `dvrflow switch` process
 * listening on `ptcp:0:127.0.0.1` (issue §3): add-flows, dump-flows,
 * del-flows, dump-ports, dump-ports-desc, show, dump-tables, and a refused
 * version. The flow dumps are compared with what real Open vSwitch 3.1
 * prints for the same flows (a private ovs-vswitchd, test/datapath/
 * ovs-instance.ts), on the DVR benchmark flow set.
 *
 * Skips loudly when ovs-ofctl / the OVS daemons are not installed (and fails
 * instead when DVRFLOW_REQUIRE_SYSTEM_TOOLS=1, as in CI).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OvsInstance, ovsDaemonsAvailable } from "../datapath/ovs-instance.js";
import { hasTool } from "../helpers/tools.js";
import { DVR_FLOWS_FILE } from "../datapath/switch-helpers.js";
import { SwitchProcess } from "./switch-process.js";

const HAVE_OFCTL = hasTool("ovs-ofctl");
const HAVE_OVS = ovsDaemonsAvailable();

const N_PORTS = 8;

/** The lines of a dump, sorted. */
const lines = (text: string): string[] => text.split("\n").sort();
/** The priority sequence of a `--sort` dump (ovs-ofctl sorts by priority only). */
const priorities = (text: string): number[] =>
  [...text.matchAll(/priority=(\d+)/g)].map((m) => Number(m[1]));

function ofctl(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("ovs-ofctl", ["-O", "OpenFlow13", ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: readonly string[]): string {
  const r = ofctl(args);
  if (r.status !== 0) throw new Error(`ovs-ofctl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!HAVE_OFCTL || !HAVE_OVS)("real ovs-ofctl against dvrflow switch", () => {
  let sw: SwitchProcess;
  let ovs: OvsInstance;
  let target: string;
  let dir: string;
  const ports = Array.from({ length: N_PORTS }, (_, i) => i + 1);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dvrflow-ofctl-"));
    sw = await SwitchProcess.start([
      "--bridge",
      "br0",
      "--dpid",
      "0xabc",
      "--listen",
      "ptcp:0:127.0.0.1",
      ...ports.flatMap((n) => ["--port", `${n}=p${n}:type=internal`]),
    ]);
    target = `tcp:127.0.0.1:${sw.listenPort("br0")}`;
    ovs = await OvsInstance.start();
    ovs.addBridge(
      "br0",
      ports.map((n) => ({ name: `p${n}`, ofport: n })),
    );
  }, 90_000);

  afterAll(async () => {
    await sw?.stop();
    ovs?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const ovsTarget = (): string => `unix:${join(ovs.dir, "br0.mgmt")}`;
  /** Runs `ovs-ofctl [OPTIONS] COMMAND TARGET [ARGS]` against both switches. */
  const both = (args: readonly string[]): { ours: string; theirs: string } => {
    const cmd = args.findIndex((a) => !a.startsWith("--"));
    const run = (t: string): string => ok([...args.slice(0, cmd + 1), t, ...args.slice(cmd + 1)]);
    return { ours: run(target), theirs: run(ovsTarget()) };
  };

  it("show: datapath id, tables, and every port with its name", () => {
    const out = ok(["show", target]);
    expect(out).toContain("OFPT_FEATURES_REPLY (OF1.3)");
    expect(out).toContain("dpid:0000000000000abc");
    expect(out).toContain("n_tables:254, n_buffers:0");
    for (const n of ports) expect(out).toContain(` ${n}(p${n}): addr:`);
    expect(out).toContain(" LOCAL(br0): addr:");
  });

  it("add-flows then dump-flows prints exactly what OVS prints for the DVR flow set", () => {
    ok(["add-flows", target, DVR_FLOWS_FILE]);
    ok(["add-flows", ovsTarget(), DVR_FLOWS_FILE]);
    // Line for line the same text; the order of flows of equal priority is
    // each classifier's own (OVS's follows its hash tables), so compare as sets.
    const sorted = both(["--no-stats", "--sort", "dump-flows"]);
    expect(sorted.ours.split("\n").length).toBeGreaterThan(100);
    expect(lines(sorted.ours)).toEqual(lines(sorted.theirs));
    expect(priorities(sorted.ours)).toEqual(priorities(sorted.theirs));
    const plain = both(["--no-stats", "dump-flows"]);
    expect(lines(plain.ours)).toEqual(lines(plain.theirs));
    // With stats: the same flows, the same counters (nothing was sent), durations aside.
    const stats = both(["dump-flows"]);
    const strip = (s: string): string[] =>
      s
        .replace(/duration=[0-9.]+s, /g, "")
        .split("\n")
        .slice(1)
        .sort();
    expect(strip(stats.ours)).toEqual(strip(stats.theirs));
  });

  it("dump-flows with a match and a table selects as OVS does", () => {
    for (const sel of ["table=0", "table=25,in_port=3", "ip", "cookie=0x0/0x0,table=25"]) {
      const r = both(["--no-stats", "--sort", "dump-flows", sel]);
      expect(r.ours.length, sel).toBeGreaterThan(0);
      expect(lines(r.ours), sel).toEqual(lines(r.theirs));
    }
  });

  it("del-flows with a match removes the same flows as in OVS, then del-flows empties the table", () => {
    for (const sel of ["table=0,in_port=1", "arp", "table=60,dl_vlan=2"]) {
      ok(["del-flows", target, sel]);
      ok(["del-flows", ovsTarget(), sel]);
      const r = both(["--no-stats", "--sort", "dump-flows"]);
      expect(lines(r.ours), sel).toEqual(lines(r.theirs));
    }
    ok(["del-flows", target]);
    expect(ok(["--no-stats", "dump-flows", target])).toBe("");
  });

  it("a large dump (2000 flows, several multipart replies) comes back whole", () => {
    const file = join(dir, "many.txt");
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++)
      lines.push(
        `table=1,priority=${100 + (i % 50)},ip,nw_src=10.${(i >> 8) & 255}.${i & 255}.0/24,nw_dst=192.168.0.${i % 200} actions=set_field:fa:16:3e:00:00:01->eth_dst,output:${(i % 8) + 1}`,
      );
    writeFileSync(file, lines.join("\n") + "\n");
    ok(["add-flows", target, file]);
    const out = ok(["--no-stats", "dump-flows", target, "table=1"]).trim().split("\n");
    expect(out).toHaveLength(2000);
    ok(["del-flows", target]);
  });

  it("refuses a flow the switch cannot apply with OVS's error, leaving the table unchanged", () => {
    ok(["add-flow", target, "priority=5,in_port=1,actions=output:2"]);
    const ours = ofctl(["add-flow", target, "priority=1,actions=group:5"]);
    const theirs = ofctl(["add-flow", ovsTarget(), "priority=1,actions=group:5"]);
    expect(ours.status).not.toBe(0);
    expect(theirs.status).not.toBe(0);
    const errName = (s: string): string | undefined => /\b(OFP[A-Z]{2,4}C_[A-Z_]+)/.exec(s)?.[1];
    expect(errName(ours.stderr)).toBe(errName(theirs.stderr));
    expect(errName(ours.stderr)).toBe("OFPBAC_BAD_OUT_GROUP");
    expect(ok(["--no-stats", "dump-flows", target])).toBe(
      " priority=5,in_port=1 actions=output:2\n",
    );
  });

  it("expires a flow by its hard timeout, driven by the switch's own clock", async () => {
    ok(["add-flow", target, "table=7,priority=3,hard_timeout=1,in_port=4,actions=drop"]);
    expect(ok(["--no-stats", "dump-flows", target, "table=7"])).toContain("hard_timeout=1");
    await new Promise((r) => setTimeout(r, 2600));
    expect(ok(["--no-stats", "dump-flows", target, "table=7"])).toBe("");
  });

  it("dump-ports and dump-ports-desc list every port", () => {
    const stats = ok(["dump-ports", target]);
    expect(stats).toContain(`OFPST_PORT reply (OF1.3) (xid=0x2): ${N_PORTS + 1} ports`);
    for (const n of ports)
      expect(stats).toMatch(new RegExp(`port  ${n}: rx pkts=0, bytes=0, drop=0`));
    const one = ok(["dump-ports", target, "3"]);
    expect(one).toContain("1 ports");
    expect(one).toContain("port  3:");
    const desc = ok(["dump-ports-desc", target]);
    for (const n of ports) expect(desc).toContain(` ${n}(p${n}): addr:`);
    expect(desc).toContain("state:      LIVE");
  });

  it("dump-tables reports the active flow counts", () => {
    const out = ok(["dump-tables", target]);
    expect(out).toMatch(/table 0:\n\s+active=1, lookup=0, matched=0/);
  });

  it("an OpenFlow 1.0-only ovs-ofctl fails version negotiation as against OVS", () => {
    const ours = spawnSync("ovs-ofctl", ["-O", "OpenFlow10", "show", target], { encoding: "utf8" });
    const theirs = spawnSync("ovs-ofctl", ["-O", "OpenFlow10", "show", ovsTarget()], {
      encoding: "utf8",
    });
    expect(ours.status).not.toBe(0);
    expect(theirs.status).not.toBe(0);
    expect(ours.stderr).toContain(
      "version negotiation failed (we support version 0x01, peer supports version 0x04)",
    );
    expect(theirs.stderr).toContain(
      "version negotiation failed (we support version 0x01, peer supports version 0x04)",
    );
  });
});
