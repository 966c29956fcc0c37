/**
 * Sanity: the topology trace on compute-1 of examples/two-hosts.yaml walks
 * exactly what the plain `traceDetailed` walks on the same flows loaded
 * another way — `dvrflow compile` text parsed into bridges built from a
 * switch config (datapath/agent/config.ts), as `dvrflow trace --bridges`
 * does. Same tables hit, same datapath actions, and the same text once the
 * annotations (` @ host`, `# origin` lines) are taken out: the annotation
 * hook adds lines and changes nothing else.
 */
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildBridges, loadFlowsText, parseSwitchConfig } from "../../datapath/agent/config.js";
import { Datapath } from "../../datapath/datapath.js";
import { microflowPacket } from "../../datapath/microflow.js";
import { traceDetailed } from "../../datapath/trace.js";
import { compileHost, defaultOfports, PATCH_INT, PATCH_TUN } from "../../src/dvr/compile/index.js";
import { formatDesiredFlow } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { indexTopology } from "../../src/topology/indexed.js";
import { traceTopology } from "../../src/trace/index.js";
import { loadExample } from "../dvr/helpers.js";

const HOST = "compute-1";

/** Packets from compute-1's VMs: routed, switched, ARP, spoofed, unknown. */
const PACKETS = [
  "in_port=10,dl_src=fa:16:3e:aa:00:01,dl_dst=fa:16:3e:00:01:01,ip,nw_src=203.0.113.10,nw_dst=203.0.113.75,nw_ttl=64",
  "in_port=10,dl_src=fa:16:3e:aa:00:01,dl_dst=fa:16:3e:00:01:01,ip,nw_src=203.0.113.10,nw_dst=203.0.113.74,nw_ttl=64",
  "in_port=10,dl_src=fa:16:3e:aa:00:01,dl_dst=fa:16:3e:aa:00:02,ip,nw_src=203.0.113.10,nw_dst=203.0.113.11,nw_ttl=64",
  "in_port=11,arp,arp_op=1,dl_src=fa:16:3e:bb:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=203.0.113.74,arp_tpa=203.0.113.65,arp_sha=fa:16:3e:bb:00:01",
  "in_port=10,dl_src=fa:16:3e:66:66:66,dl_dst=fa:16:3e:00:01:01,ip,nw_src=203.0.113.10,nw_dst=203.0.113.75,nw_ttl=64",
  "in_port=10,dl_src=fa:16:3e:aa:00:01,dl_dst=fa:16:3e:00:01:01,ip,nw_src=203.0.113.10,nw_dst=192.0.2.1,nw_ttl=64",
];

const topology = loadExample("two-hosts.yaml");
const snap = await offlineSnapshot(topology);
const index = indexTopology(topology);
const flows = compileHost(compileInputFromSnapshot(snap), HOST);
const ofports = defaultOfports(index, HOST);
const lvs = snap.localVlans.get(HOST)!;
const vms = index.portsByHost.get(HOST)!;

describe("topology trace vs traceDetailed on the same flows (compute-1)", () => {
  /** compute-1 as `dvrflow switch --config` would build it, flows from `compile` text. */
  function plainBridges() {
    const cfg = parseSwitchConfig(
      stringify({
        bridges: [
          {
            name: "br-int",
            ports: [
              { name: PATCH_TUN, type: "patch", ofport: 1, peer: PATCH_INT },
              ...vms.map((p) => ({
                name: p.interfaceName,
                ofport: ofports["br-int"].get(p.interfaceName),
                tag: lvs.get(p.network),
              })),
            ],
          },
          {
            name: "br-tun",
            ports: [
              { name: PATCH_INT, type: "patch", ofport: 1, peer: PATCH_TUN },
              ...[...ofports["br-tun"]]
                .filter(([n]) => n !== PATCH_INT)
                .map(([name, no]) => ({
                  name,
                  type: "vxlan",
                  ofport: no,
                  remote_ip: "198.51.100.12",
                  local_ip: "198.51.100.11",
                  key: "flow",
                })),
            ],
          },
        ],
      }),
    );
    const bridges = buildBridges(cfg, new Datapath({ cache: false }));
    for (const b of ["br-int", "br-tun"] as const) {
      loadFlowsText(bridges.get(b)!, flows.bridges[b].map(formatDesiredFlow).join("\n"));
    }
    return bridges;
  }

  for (const mf of PACKETS) {
    it(mf, () => {
      const inPort = Number(/in_port=(\d+)/.exec(mf)![1]);
      const plain = traceDetailed(plainBridges().get("br-int")!, microflowPacket(mf).frame, inPort);
      const ours = traceTopology(snap, { host: HOST, microflow: mf, maxHops: 0 });
      const leg = ours.legs[0]!;
      expect(leg.hops.map((h) => ({ bridge: h.bridge, table: h.table, hit: h.hit }))).toEqual(
        plain.tables,
      );
      expect(leg.datapathActions).toBe(plain.datapathActions);
      const stripped = leg.text
        .split("\n")
        .filter((l) => !l.trimStart().startsWith("# "))
        .map((l) => l.replace(/^(\s*bridge\("[^"]+"\)) @ compute-1$/, "$1"))
        .map((l) => (/^\s*-+$/.test(l) ? l.replace(/-{12}$/, "") : l))
        .join("\n");
      expect(stripped).toBe(plain.text);
      expect(plain.tables.length).toBeGreaterThanOrEqual(2);
    });
  }
});
