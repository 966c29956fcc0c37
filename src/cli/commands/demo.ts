/**
 * `dvrflow demo [--config topo.yaml] [--netns] [--keep-running] [--drop-flows HOST:BRIDGE:MATCH]...`
 *
 * The embedded DVR demo (what `npm start` runs; src/demo/run.ts): the
 * controller, one `dvrflow switch` process per compute host joined by VXLAN
 * over UDP on loopback, simulated VMs that ARP and ping through the real
 * flow tables, the path of each test packet, and an end table. Exit status
 * 0 when every case gave its expected result (cross-tenant pairs must not
 * reach each other), 1 otherwise.
 *
 * `--netns` (root) makes the VMs real: one network namespace per VM on a
 * veth that is a `system` port of its host's br-int, pinging with the
 * system's `ping` (src/demo/netns.ts). Without root or the tools it says
 * why and exits 1; it never falls back to simulated VMs.
 *
 * `--drop-flows` deletes flows from a switch after the sync, behind the
 * controller's back, to show (and test) what a broken pipeline looks like:
 * e.g. `--drop-flows compute-3:br-int:table=1` removes the gateway-MAC
 * restore of routed frames arriving at compute-3.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { DropFlow } from "../../demo/run.js";
import type { CommandIo } from "./ofp-print.js";

export const DEMO_USAGE = `usage: dvrflow demo [--config FILE] [--netns] [--keep-running] [--drop-flows HOST:BRIDGE:MATCH]...
  --config FILE        topology (default: the bundled examples/demo-3-hosts.yaml)
  --keep-running       leave the controller, API, metrics and switches up after the cases
  --drop-flows SPEC    after the sync, delete the flows matching MATCH (ovs-ofctl syntax)
                       from HOST's BRIDGE, e.g. compute-3:br-int:table=1 (shows a failure)
  --sync-timeout S     seconds to wait for the switches to start and sync (default 40)
  --netns              VMs as real network namespaces, each on a veth that is a system port of
                       its host's br-int, and real \`ping -c 1 -W 2\` between them (needs root,
                       ip, ping, ethtool, sysctl; namespaces dvrflow-PID-vm-NAME, deleted on exit)
`;

const BUNDLED = join("examples", "demo-3-hosts.yaml");

/** The bundled topology: found by walking up from this file to the package root. */
export function bundledTopology(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, BUNDLED);
    if (existsSync(candidate) && existsSync(join(dir, "package.json"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${BUNDLED} above ${fileURLToPath(import.meta.url)}`);
}

function parseDrop(text: string): DropFlow {
  const a = text.indexOf(":");
  const b = a < 0 ? -1 : text.indexOf(":", a + 1);
  const bridge = b < 0 ? "" : text.slice(a + 1, b);
  if (a <= 0 || b < 0 || (bridge !== "br-int" && bridge !== "br-tun")) {
    throw new Error(`--drop-flows ${text}: expected HOST:br-int|br-tun:MATCH`);
  }
  return { host: text.slice(0, a), bridge, match: text.slice(b + 1) };
}

export async function runDemoCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: "string" },
        "keep-running": { type: "boolean" },
        "drop-flows": { type: "string", multiple: true },
        "sync-timeout": { type: "string" },
        netns: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    err(`dvrflow demo: ${(e as Error).message}\n${DEMO_USAGE}`);
    return 1;
  }
  if (values.help === true) {
    io.stdout(DEMO_USAGE);
    return 0;
  }
  let dropFlows: DropFlow[];
  let config: string;
  let syncTimeoutS: number | undefined;
  try {
    dropFlows = (values["drop-flows"] ?? []).map(parseDrop);
    config = values.config ?? bundledTopology();
    if (values["sync-timeout"] !== undefined) {
      syncTimeoutS = Number(values["sync-timeout"]);
      if (!Number.isFinite(syncTimeoutS) || syncTimeoutS <= 0)
        throw new Error(`--sync-timeout ${values["sync-timeout"]}: not a positive number`);
    }
  } catch (e) {
    err(`dvrflow demo: ${(e as Error).message}\n`);
    return 1;
  }
  const { runDemo } = await import("../../demo/run.js");
  return runDemo({
    config,
    keepRunning: values["keep-running"] === true,
    dropFlows,
    out: (s) => io.stdout(s),
    err,
    tty: process.stdout.isTTY === true,
    netns: values.netns === true,
    ...(syncTimeoutS === undefined ? {} : { syncTimeoutS }),
  });
}
