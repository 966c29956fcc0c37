/**
 * `dvrflow trace` (src/cli/commands/trace.ts), run in-process:
 *
 * - `--flows FILE MICROFLOW` on the DVR benchmark flows gives, line for line,
 *   what `ovs-appctl ofproto/trace` prints on a real OVS bridge with the same
 *   flows (OVS's datapath port numbers mapped to OpenFlow ports; the
 *   `Megaflow:` line, which we do not compute, left out);
 * - `--switch unix:…` reads the tables of that running OVS and traces the
 *   same way;
 * - `--bridges CONFIG` follows a packet over a patch port into a second
 *   bridge;
 * - bad input gives exit status 1 and a message.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrace } from "../../src/cli/commands/trace.js";
import { OvsInstance, ovsDaemonsAvailable } from "../datapath/ovs-instance.js";
import { DVR_FLOWS_FILE, dvrFlows } from "../datapath/switch-helpers.js";

async function trace(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runTrace(args, {
    stdin: async () => "",
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  return { code, out, err };
}

const MICROFLOWS = [
  // routed east-west between networks: 0 → 25 → 60 → 61 → 62
  "in_port=5,dl_src=fa:16:3e:00:00:05,dl_dst=fa:16:3e:ff:00:02,udp,nw_src=10.0.2.15,nw_dst=10.0.1.11,nw_ttl=64,udp_src=1000,udp_dst=2000",
  // same network: 0 → 25 → 60
  "in_port=1,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:00:00:02,ip,nw_src=10.0.1.11,nw_dst=10.0.1.12,nw_ttl=64",
  // broadcast ARP: 0 → 24 → 25 → 60, flooded
  "in_port=1,dl_src=fa:16:3e:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=10.0.1.11,arp_tpa=10.0.1.12,arp_op=1",
  // spoofed source: dropped in table 25
  "in_port=3,dl_src=00:00:00:00:00:09,dl_dst=fa:16:3e:00:00:01,tcp,nw_src=10.0.1.13,tp_dst=22",
];

const HAVE_OVS = ovsDaemonsAvailable();

/** OVS trace text without the Megaflow line, datapath ports as OpenFlow ports. */
function normalizeOvs(text: string, odpToOf: Map<number, number>): string {
  return text
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith("Megaflow:"))
    .map((l) =>
      l.startsWith("Datapath actions: ")
        ? "Datapath actions: " +
          l
            .slice("Datapath actions: ".length)
            .replace(
              /(^|,)(\d+)(?=,|$)/g,
              (_, sep: string, n: string) => `${sep}${odpToOf.get(Number(n)) ?? `odp${n}`}`,
            )
        : l,
    )
    .join("\n");
}

describe.skipIf(!HAVE_OVS)("dvrflow trace against ovs-appctl ofproto/trace", () => {
  let ovs: OvsInstance;
  let odp: Map<number, number>;

  beforeAll(async () => {
    ovs = await OvsInstance.start();
    ovs.addBridge(
      "br0",
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ name: `p${n}`, ofport: n })),
    );
    ovs.addFlows("br0", dvrFlows());
    odp = await ovs.odpPorts();
  }, 60_000);
  afterAll(() => ovs?.stop());

  for (const mf of MICROFLOWS) {
    it(`--flows prints what OVS prints for ${mf.slice(0, 60)}…`, async () => {
      const ours = await trace(["--flows", DVR_FLOWS_FILE, mf]);
      expect(ours.code, ours.err).toBe(0);
      const theirs = normalizeOvs(await ovs.appctl("ofproto/trace", "br0", mf), odp);
      expect(ours.out.trimEnd()).toBe(theirs);
    });
  }

  it("--switch reads a running switch's tables (here OVS's) and traces them the same way", async () => {
    const mf = MICROFLOWS[0]!;
    const live = await trace(["--switch", `unix:${join(ovs.dir, "br0.mgmt")}`, mf]);
    expect(live.code, live.err).toBe(0);
    const file = await trace(["--flows", DVR_FLOWS_FILE, mf]);
    expect(live.out).toBe(file.out);
    expect(live.out).toContain("62. ");
  });
});

describe("dvrflow trace over several bridges", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "dvrflow-trace-"));
    writeFileSync(
      join(dir, "int.flows"),
      "priority=10,in_port=1,actions=set_field:0x5->reg0,output:2\n",
    );
    writeFileSync(
      join(dir, "tun.flows"),
      "priority=10,in_port=1,actions=set_field:0x3e8->tun_id,output:5\npriority=0,actions=drop\n",
    );
    writeFileSync(
      join(dir, "switch.yaml"),
      `bridges:
  - name: br-int
    flows: int.flows
    ports:
      - { name: vm-a, type: internal, ofport: 1 }
      - { name: patch-tun, type: patch, ofport: 2, peer: patch-int }
  - name: br-tun
    flows: tun.flows
    ports:
      - { name: patch-int, type: patch, ofport: 1, peer: patch-tun }
      - { name: vx1, type: vxlan, ofport: 5, remote_ip: 198.51.100.12, key: flow }
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--bridges follows the patch port into br-tun and out of its tunnel port", async () => {
    const r = await trace([
      "--bridges",
      join(dir, "switch.yaml"),
      "br-int",
      "in_port=1,dl_dst=fa:16:3e:00:00:02,ip",
    ]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^Flow: ip,in_port=1,/);
    expect(lines).toContain('bridge("br-int")');
    expect(r.out).toMatch(
      /bridge\("br-tun"\)\n\s*-+\n\s*0\. in_port=1, priority 10\n\s+set_field:0x3e8->tun_id\n\s+output:5/,
    );
    expect(r.out).toMatch(
      /Datapath actions: set\(tunnel\(tun_id=0x3e8,src=0\.0\.0\.0,dst=198\.51\.100\.12\)\),5$/m,
    );
  });

  it("reports bad input with exit status 1", async () => {
    expect((await trace(["--flows", "/nonexistent", "in_port=1"])).code).toBe(1);
    const bad = await trace(["--flows", DVR_FLOWS_FILE, "in_port=1,bogus_field=3"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bogus_field/);
    expect((await trace(["in_port=1"])).code).toBe(1);
  });
});
