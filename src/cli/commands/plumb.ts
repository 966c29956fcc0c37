/**
 * `dvrflow plumb --config topo.yaml --host H [--ovsdb tcp:IP:PORT|unix:PATH]
 *  [--store PATH] [--controller tcp:IP:6653|unix:PATH] [--datapath-type netdev]
 *  [--dst-port N] [--vm-port-type TYPE] [--underlay-port IF[,IF…]]
 *  [--underlay-bridge br-phy] [--underlay-prefix 24] [--print] [--dry-run]`
 *
 * With an OVSDB remote (`--ovsdb`, else the host's `ovsdb` in the
 * topology), reconciles the host's vswitch database and reports what
 * changed; `--dry-run` only reports (exit 2 when something differs, as
 * diff-flows). Without one, or with `--print`, prints the equivalent
 * `ovs-vsctl` script.
 *
 * Commander-free: `runPlumb(args, io)` → exit status (0 ok, 1 error, 2 dry
 * run found differences).
 */
import { offlineSnapshot } from "../../dvr/offline.js";
import { OvsdbClient } from "../../ovsdb/client.js";
import { applyPlumbing } from "../../plumb/apply.js";
import { PlumbConflictError } from "../../plumb/diff.js";
import { planFromSnapshot } from "../../plumb/index.js";
import { formatChange } from "../../plumb/model.js";
import { formatDatapathId, type PlumbOptions } from "../../plumb/plan.js";
import { renderVsctlScript } from "../../plumb/vsctl.js";
import { formatIssue, TopologyError } from "../../topology/issues.js";
import { loadTopologyFile } from "../../topology/loader.js";
import { parseOptions } from "./compile.js";
import type { CommandIo } from "./ofp-print.js";

const USAGE =
  "usage: dvrflow plumb --config FILE --host HOST [--ovsdb tcp:IP:PORT|unix:PATH] [--store PATH]\n" +
  "                     [--controller TARGET] [--datapath-type netdev|system|dummy] [--dst-port N]\n" +
  "                     [--vm-port-type TYPE] [--underlay-port IF[,IF...]] [--underlay-bridge BR]\n" +
  "                     [--underlay-prefix LEN] [--print] [--dry-run] [--timeout MS]\n";

const VALUED = [
  "--config",
  "--host",
  "--ovsdb",
  "--store",
  "--controller",
  "--datapath-type",
  "--dst-port",
  "--vm-port-type",
  "--underlay-port",
  "--underlay-bridge",
  "--underlay-prefix",
  "--timeout",
] as const;

function intOption(
  v: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`${name} must be an integer in ${min}..${max}`);
  return n;
}

class UsageError extends Error {}

export async function runPlumb(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  const opts = parseOptions(args, VALUED, ["--print", "--dry-run"]);
  if (typeof opts === "string") {
    err(`dvrflow plumb: ${opts}\n${USAGE}`);
    return 1;
  }
  const v = (k: (typeof VALUED)[number]): string | undefined => opts.values.get(k);
  const config = v("--config");
  const host = v("--host");
  if (config === undefined || host === undefined) {
    err(USAGE);
    return 1;
  }
  try {
    const dstPort = intOption(v("--dst-port"), "--dst-port", 1, 65535);
    const prefix = intOption(v("--underlay-prefix"), "--underlay-prefix", 1, 32);
    const timeout = intOption(v("--timeout"), "--timeout", 1, 3_600_000);
    const underlayPorts = v("--underlay-port")
      ?.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const underlayBridge = v("--underlay-bridge");
    if (underlayBridge !== undefined && underlayPorts === undefined) {
      throw new UsageError("--underlay-bridge needs --underlay-port");
    }
    const controller = v("--controller");
    const datapathType = v("--datapath-type");
    const vmType = v("--vm-port-type");
    const options: PlumbOptions = {
      ...(controller === undefined ? {} : { controller }),
      ...(datapathType === undefined ? {} : { datapathType }),
      ...(dstPort === undefined ? {} : { tunnelDstPort: dstPort }),
      ...(vmType === undefined ? {} : { vmInterfaceType: vmType }),
      ...(underlayPorts === undefined
        ? {}
        : {
            underlay: {
              interfaces: underlayPorts,
              ...(underlayBridge === undefined ? {} : { bridge: underlayBridge }),
              ...(prefix === undefined ? {} : { prefixLength: prefix }),
            },
          }),
    };

    const { topology, warnings } = loadTopologyFile(config);
    for (const w of warnings) err(`${formatIssue(w, config)}\n`);
    const hostConfig = topology.hosts[host];
    if (hostConfig === undefined) {
      err(
        `dvrflow plumb: no host "${host}" in ${config} (hosts: ${Object.keys(topology.hosts).join(", ")})\n`,
      );
      return 1;
    }
    const storePath = v("--store");
    const snapshot = await offlineSnapshot(topology, storePath === undefined ? {} : { storePath });
    const plan = planFromSnapshot(snapshot, host, options);

    const remote = v("--ovsdb") ?? hostConfig.ovsdb;
    if (remote === undefined || opts.flags.has("--print")) {
      const dp = hostConfig.datapath_ids;
      io.stdout(
        renderVsctlScript(plan, {
          header: `datapath ids: br-int ${formatDatapathId(dp["br-int"])}, br-tun ${formatDatapathId(dp["br-tun"])}`,
        }),
      );
      return 0;
    }

    const dryRun = opts.flags.has("--dry-run");
    const client = await OvsdbClient.connect(
      remote,
      timeout === undefined ? {} : { requestTimeoutMs: timeout, connectTimeoutMs: timeout },
    );
    try {
      const result = await applyPlumbing(client, plan, { dryRun });
      let out = "";
      if (result.changes.length === 0) {
        out += `plumb ${host} via ${remote}: no change (already in place)\n`;
      } else {
        const verb = dryRun ? "would change" : "changed";
        out += `plumb ${host} via ${remote}: ${verb} ${result.changes.length} item(s) in ${result.operations} operation(s)\n`;
        for (const c of result.changes) out += `  ${formatChange(c)}\n`;
      }
      for (const n of result.notes) out += `note: ${n}\n`;
      if (result.hostCommands.length > 0) {
        out += "still to run on the host (outside OVSDB):\n";
        for (const c of result.hostCommands) out += `  ${c}\n`;
      }
      io.stdout(out);
      return dryRun && result.changes.length > 0 ? 2 : 0;
    } finally {
      await client.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`dvrflow plumb: ${e.message}\n${USAGE}`);
      return 1;
    }
    if (e instanceof TopologyError) {
      err(`${e.message}\n`);
      return 1;
    }
    if (e instanceof PlumbConflictError) {
      err(`dvrflow plumb: nothing applied:\n${e.conflicts.map((c) => `  ${c}\n`).join("")}`);
      return 1;
    }
    err(`dvrflow plumb: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
