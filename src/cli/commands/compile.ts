/**
 * `dvrflow compile --config topo.yaml --host H [--bridge br-int|br-tun]
 *  [--store PATH] [--annotate]`: a host's desired flows in `ovs-ofctl
 * add-flows` syntax (one `dump-flows --no-stats` line per flow), usable
 * with `ovs-ofctl -O OpenFlow13 replace-flows BR FILE` and `diff-flows`.
 *
 * Without `--bridge` both bridges are printed, each under a `#` header
 * line (ovs-ofctl skips comment lines); `--annotate` adds a `#` line
 * naming the topology object behind each flow. Port numbers are the
 * offline defaults (src/dvr/compile/ports.ts).
 *
 * Commander-free: `runCompile(args, io)` → exit status (0 ok, 1 error).
 */
import { compileHost } from "../../dvr/compile/index.js";
import { formatDesiredFlow } from "../../dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../dvr/offline.js";
import { BRIDGE_NAMES, type BridgeName } from "../../dvr/tables.js";
import { formatIssue } from "../../topology/issues.js";
import { loadTopologyFile } from "../../topology/loader.js";
import { TopologyError } from "../../topology/issues.js";
import type { CommandIo } from "./ofp-print.js";

const USAGE =
  "usage: dvrflow compile --config FILE --host HOST [--bridge br-int|br-tun] [--store PATH] [--annotate]\n";

export interface ParsedOptions {
  readonly values: Map<string, string>;
  readonly flags: Set<string>;
}

/** `--name value` / `--name=value` options and bare `--flag`s; undefined on anything else. */
export function parseOptions(
  args: readonly string[],
  valued: readonly string[],
  flags: readonly string[],
): ParsedOptions | string {
  const values = new Map<string, string>();
  const set = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(0, eq) : a;
    if (valued.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) return `${name} needs a value`;
      values.set(name, v);
    } else if (flags.includes(a)) {
      set.add(a);
    } else {
      return `unexpected argument "${a}"`;
    }
  }
  return { values, flags: set };
}

export async function runCompile(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  const opts = parseOptions(args, ["--config", "--host", "--bridge", "--store"], ["--annotate"]);
  if (typeof opts === "string") {
    err(`dvrflow compile: ${opts}\n${USAGE}`);
    return 1;
  }
  const config = opts.values.get("--config");
  const host = opts.values.get("--host");
  const bridge = opts.values.get("--bridge");
  if (config === undefined || host === undefined) {
    err(USAGE);
    return 1;
  }
  if (bridge !== undefined && !(BRIDGE_NAMES as readonly string[]).includes(bridge)) {
    err(`dvrflow compile: --bridge must be br-int or br-tun, not "${bridge}"\n`);
    return 1;
  }
  try {
    const { topology, warnings } = loadTopologyFile(config);
    for (const w of warnings) err(`${formatIssue(w, config)}\n`);
    if (topology.hosts[host] === undefined) {
      err(
        `dvrflow compile: no host "${host}" in ${config} (hosts: ${Object.keys(topology.hosts).join(", ")})\n`,
      );
      return 1;
    }
    const storePath = opts.values.get("--store");
    const snapshot = await offlineSnapshot(topology, storePath === undefined ? {} : { storePath });
    const flows = compileHost(compileInputFromSnapshot(snapshot), host);
    const annotate = opts.flags.has("--annotate");
    const bridges: readonly BridgeName[] =
      bridge === undefined ? BRIDGE_NAMES : [bridge as BridgeName];
    let out = "";
    for (const b of bridges) {
      if (bridge === undefined) {
        const dpid = topology.hosts[host]!.datapath_ids[b];
        out += `# ${b} of ${host} (datapath id 0x${dpid.toString(16).padStart(16, "0")}): ${flows.bridges[b].length} flows\n`;
      }
      for (const f of flows.bridges[b]) {
        if (annotate) out += `# ${f.table.name}: ${f.origin.object}: ${f.origin.role}\n`;
        out += `${formatDesiredFlow(f)}\n`;
      }
    }
    io.stdout(out);
    return 0;
  } catch (e) {
    if (e instanceof TopologyError) {
      err(`${e.message}\n`);
      return 1;
    }
    err(`dvrflow compile: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
