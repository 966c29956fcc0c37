/**
 * `dvrflow check --config topo.yaml [--json] [--explain] [--store PATH]`:
 * validates a topology (schema and semantic rules, each problem with its
 * object path and file line) and explains what each host gets: its DVR
 * MAC, the routers placed on it, its networks with their local VLANs and
 * VNIs, and the number of flows per table of each bridge (Faucet's
 * `pipeline_str()`). `--explain` also lists every flow's purpose.
 *
 * Exit status: 0 valid (warnings allowed), 1 invalid or unreadable.
 * Commander-free: `runCheck(args, io)`.
 */
import { readFileSync } from "node:fs";
import { compileAll, type HostFlows } from "../../dvr/compile/index.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../dvr/offline.js";
import { BRIDGE_NAMES, tablesOf } from "../../dvr/tables.js";
import { formatMac } from "../../topology/addr.js";
import { formatIssue, formatPath, hasErrors, type TopologyIssue } from "../../topology/issues.js";
import { parseTopologyText } from "../../topology/loader.js";
import type { Topology } from "../../topology/schema.js";
import { parseOptions } from "./compile.js";
import type { CommandIo } from "./ofp-print.js";

const USAGE = "usage: dvrflow check --config FILE [--json] [--explain] [--store PATH]\n";

interface HostReport {
  readonly host: string;
  readonly dvrMac: string;
  readonly dvrMacSource: "configured" | "allocated";
  readonly routers: readonly string[];
  readonly networks: readonly { name: string; localVlan: number; vni: number }[];
  readonly bridges: Record<
    string,
    { flows: number; tables: { id: number; name: string; flows: number }[] }
  >;
}

function hostReport(t: Topology, h: HostFlows): HostReport {
  const bridges: HostReport["bridges"] = {};
  for (const b of BRIDGE_NAMES) {
    const flows = h.bridges[b];
    bridges[b] = {
      flows: flows.length,
      tables: tablesOf(b).map((tb) => ({
        id: tb.id,
        name: tb.name,
        flows: flows.filter((f) => f.table.id === tb.id).length,
      })),
    };
  }
  return {
    host: h.host,
    dvrMac: formatMac(h.dvrMac),
    dvrMacSource: t.hosts[h.host]?.dvr_mac === undefined ? "allocated" : "configured",
    routers: h.routers,
    networks: h.networks.map((n) => ({ ...n, vni: t.networks[n.name]!.segmentation_id })),
    bridges,
  };
}

function issueJson(i: TopologyIssue) {
  return { ...i, path: formatPath(i.path) };
}

export async function runCheck(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  const opts = parseOptions(args, ["--config", "--store"], ["--json", "--explain"]);
  if (typeof opts === "string") {
    err(`dvrflow check: ${opts}\n${USAGE}`);
    return 1;
  }
  const config = opts.values.get("--config");
  if (config === undefined) {
    err(USAGE);
    return 1;
  }
  const json = opts.flags.has("--json");
  let text: string;
  try {
    text = readFileSync(config, "utf8");
  } catch (e) {
    err(`dvrflow check: cannot read ${config}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const r = parseTopologyText(text);
  const invalid = r.topology === undefined || hasErrors(r.issues);
  if (invalid) {
    if (json)
      io.stdout(`${JSON.stringify({ valid: false, issues: r.issues.map(issueJson) }, null, 2)}\n`);
    else for (const i of r.issues) io.stdout(`${formatIssue(i, config)}\n`);
    if (!json) {
      const n = r.issues.filter((i) => i.severity === "error").length;
      io.stdout(`${config}: invalid (${n} error${n === 1 ? "" : "s"})\n`);
    }
    return 1;
  }
  const t = r.topology!;
  const storePath = opts.values.get("--store");
  let hosts: HostFlows[];
  try {
    const snapshot = await offlineSnapshot(t, storePath === undefined ? {} : { storePath });
    hosts = compileAll(compileInputFromSnapshot(snapshot));
  } catch (e) {
    err(`dvrflow check: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const reports = hosts.map((h) => hostReport(t, h));
  if (json) {
    io.stdout(
      `${JSON.stringify({ valid: true, issues: r.issues.map(issueJson), hosts: reports }, null, 2)}\n`,
    );
    return 0;
  }
  let out = "";
  for (const i of r.issues) out += `${formatIssue(i, config)}\n`;
  const count = (o: object) => Object.keys(o).length;
  out +=
    `${config}: valid: ${count(t.hosts)} hosts, ${count(t.networks)} networks, ${count(t.subnets)} subnets, ` +
    `${count(t.routers)} routers, ${count(t.ports)} ports` +
    (r.issues.length > 0 ? `, ${r.issues.length} warning${r.issues.length === 1 ? "" : "s"}` : "") +
    "\n";
  for (const [n, h] of hosts.entries()) {
    const rep = reports[n]!;
    out += `\nhost ${rep.host}: DVR MAC ${rep.dvrMac} (${rep.dvrMacSource})\n`;
    out += `  routers: ${rep.routers.length === 0 ? "(none)" : rep.routers.join(", ")}\n`;
    out += `  networks: ${rep.networks.length === 0 ? "(none)" : rep.networks.map((x) => `${x.name} (local VLAN ${x.localVlan}, VNI ${x.vni})`).join(", ")}\n`;
    for (const b of BRIDGE_NAMES) {
      const br = rep.bridges[b]!;
      out += `  ${b}: ${br.flows} flows\n`;
      for (const tb of br.tables) {
        out += `    table ${String(tb.id).padStart(2)} ${tb.name.padEnd(22)} ${String(tb.flows).padStart(5)}\n`;
        if (!opts.flags.has("--explain")) continue;
        for (const f of h.bridges[b].filter((x) => x.table.id === tb.id)) {
          out += `        priority ${String(f.priority).padStart(5)}  ${f.origin.object}: ${f.origin.role}\n`;
        }
      }
    }
  }
  io.stdout(out);
  return 0;
}
